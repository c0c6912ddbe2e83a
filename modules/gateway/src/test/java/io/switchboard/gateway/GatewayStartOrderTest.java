package io.switchboard.gateway;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.switchboard.hub.HubServer;
import io.switchboard.post.PostServer;
import io.switchboard.testkit.EtcdServer;
import io.switchboard.testkit.FreePorts;
import io.switchboard.user.UserServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

@Timeout(value = 60, unit = SECONDS)
class GatewayStartOrderTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    /* the local CA every part of this test's stack issues its certificate from */
    @TempDir
    static Path CA;

    @Test
    void gatewayFirstThenTheRestInAnyOrderConverges() throws Exception {
        int hubPort = FreePorts.next();
        try (GatewayServer gateway = GatewayServer.start(config(hubPort, Map.of()))) {
            // nothing else runs: live, not ready, and calls answer 503 at once
            assertThat(status(gateway, "/observe/health/live")).isEqualTo(200);
            assertThat(status(gateway, "/observe/health/ready")).isEqualTo(503);
            long start = System.nanoTime();
            HttpResponse<String> early = get(gateway, "/post/abc");
            assertThat(early.statusCode()).isEqualTo(503);
            assertThat(early.body()).contains("\"code\":\"UNAVAILABLE\"");
            // at once, not after the route's 5 s deadline (half of it leaves room for a loaded machine)
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(2500));

            try (EtcdServer etcd = EtcdServer.start()) {
                HubServer hub = HubServer.start(Config.just(ConfigSources.create(Map.of(
                        "server.port", String.valueOf(hubPort), "etcd.endpoints", etcd.endpoint(),
                        "tls.local-ca", CA.toString()))));
                UserServer user = UserServer.start(config(hubPort, Map.of()));
                PostServer post = null;
                try {
                    await().atMost(Duration.ofSeconds(15)).until(() -> status(gateway, "/observe/health/ready") == 200);
                    // no instance of post yet: 503 at once, with a clear message
                    HttpResponse<String> none = get(gateway, "/post/abc");
                    assertThat(none.statusCode()).isEqualTo(503);
                    assertThat(none.body()).contains("no live instance of post");

                    post = PostServer.start(config(hubPort, Map.of()));
                    await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                            .until(() -> get(gateway, "/post?pageSize=1").statusCode() == 200);
                } finally {
                    if (post != null) {
                        post.close();
                    }
                    user.close();
                    hub.close();
                }
            }
        }
    }

    private static Config config(int hubPort, Map<String, String> extra) throws Exception {
        Map<String, String> settings = new HashMap<>(Map.of("server.port", "0",
                                                            "hub.endpoints", "127.0.0.1:" + hubPort,
                                                            "registry.ttl", "2",
                                                            "data.dir", Files.createTempDirectory("gw-order-").toString(),
                                                            "tls.local-ca", CA.toString()));
        settings.putAll(extra);
        return Config.just(ConfigSources.create(settings));
    }

    private static int status(GatewayServer gateway, String path) throws Exception {
        return get(gateway, path).statusCode();
    }

    private static HttpResponse<String> get(GatewayServer gateway, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + path))
                                 .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
