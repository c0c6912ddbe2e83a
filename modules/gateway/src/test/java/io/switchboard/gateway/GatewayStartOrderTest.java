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
import io.switchboard.comment.CommentServer;
import io.switchboard.hub.HubServer;
import io.switchboard.identity.LocalCa;
import io.switchboard.identity.WorkloadTls;
import io.switchboard.post.PostServer;
import io.switchboard.registry.client.RegistryClient;
import io.switchboard.registry.ServiceEndpoints;
import io.switchboard.server.ComponentTls;
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
    void aGatewayStartedBeforeAnythingLearnsEachServicesRoutesWithinASecondOfItsFirstInstance() throws Exception {
        int hubPort = FreePorts.next();
        try (GatewayServer gateway = GatewayServer.start(config(hubPort, Map.of()))) {
            // nothing else runs: live, not ready, and calls answer 503 at once
            assertThat(managementStatus(gateway, "/observe/health/live")).isEqualTo(200);
            assertThat(managementStatus(gateway, "/observe/health/ready")).isEqualTo(503);
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
                WorkloadTls watcherTls = ComponentTls.from(config(hubPort, Map.of()).get("tls"), "watcher").orElseThrow();
                RegistryClient watcher = RegistryClient.create("127.0.0.1:" + hubPort, watcherTls);
                ServiceEndpoints registered = watcher.discovery().allServices();
                CommentServer comment = null;
                PostServer post = null;
                UserServer user = null;
                try {
                    // the hub answered with no instance: ready, and no route at all
                    await().atMost(Duration.ofSeconds(15)).until(() -> managementStatus(gateway, "/observe/health/ready") == 200);
                    assertThat(get(gateway, "/post/abc").statusCode()).isEqualTo(404);
                    assertThat(get(gateway, "/user/me").statusCode()).isEqualTo(404);

                    // comment first (before the post and user services it calls), then post, then user: each one's
                    // routes answer within 1 s of its instance being registered
                    comment = CommentServer.start(config(hubPort, Map.of()));
                    assertThat(secondsUntilRouted(gateway, registered, "comment", "/post/abc/comments")).isLessThan(1.0);
                    assertThat(get(gateway, "/post/abc").statusCode()).isEqualTo(404);
                    post = PostServer.start(config(hubPort, Map.of()));
                    assertThat(secondsUntilRouted(gateway, registered, "post", "/post?pageSize=1")).isLessThan(1.0);
                    assertThat(get(gateway, "/user/me").statusCode()).isEqualTo(404);
                    user = UserServer.start(config(hubPort, Map.of()));
                    assertThat(secondsUntilRouted(gateway, registered, "user", "/user/me")).isLessThan(1.0);

                    // post's last instance goes: its routes stay and answer 503 at once, user's still serve
                    post.close();
                    post = null;
                    await().atMost(Duration.ofSeconds(5)).until(() -> instances(registered, "post") == 0);
                    await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(20)).until(() -> {
                        HttpResponse<String> gone = get(gateway, "/post/abc");
                        return gone.statusCode() == 503 && gone.body().contains("no live instance of post");
                    });
                    assertThat(get(gateway, "/user/me").statusCode()).isEqualTo(401);
                    assertThat(get(gateway, "/post/abc/comments").statusCode()).isEqualTo(200);
                } finally {
                    if (post != null) {
                        post.close();
                    }
                    if (user != null) {
                        user.close();
                    }
                    if (comment != null) {
                        comment.close();
                    }
                    watcher.close();
                    watcherTls.close();
                    hub.close();
                }
            }
        }
    }

    /*
     * Seconds from the moment this test's own watch sees the service's first instance to the moment the gateway
     * routes the path (any answer but 404 and 503: the route is known and reaches the instance).
     */
    private static double secondsUntilRouted(GatewayServer gateway, ServiceEndpoints registered, String service,
                                             String path) throws Exception {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(5))
                .until(() -> instances(registered, service) > 0);
        long seen = System.nanoTime();
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(10)).until(() -> {
            int status = status(gateway, path);
            return status != 404 && status != 503;
        });
        return (System.nanoTime() - seen) / 1e9;
    }

    private static long instances(ServiceEndpoints registered, String service) {
        return registered.instances().stream().filter(i -> i.getService().equals(service)).count();
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

    /* The status of a path on the gateway's management port (TLS with its identity, from the test's CA). */
    private static int managementStatus(GatewayServer gateway, String path) throws Exception {
        try (HttpClient management = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2))
                .sslContext(LocalCa.openOrCreate(CA, LocalCa.DEFAULT_TRUST_DOMAIN).trustingContext()).build()) {
            return management.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + gateway.managementPort() + path))
                                           .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        }
    }

    private static HttpResponse<String> get(GatewayServer gateway, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + path))
                                 .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
