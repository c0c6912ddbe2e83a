package io.switchboard.gateway;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.switchboard.hub.HubServer;
import io.switchboard.identity.IdentityFiles;
import io.switchboard.identity.LocalCa;
import io.switchboard.post.PostServer;
import io.switchboard.testkit.Stack;
import io.switchboard.user.UserServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The gateway's HTTP edge serves TLS with a configured certificate (Helidon's {@code server.tls}, PEM files):
 * HTTP/1.1, and HTTP/2 chosen over ALPN; plain HTTP is not served on that port.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GatewayEdgeTlsTest {
    @RegisterExtension
    static final Stack STACK = new Stack();

    @Test
    void theEdgeServesHttp1AndHttp2OverTlsWithTheConfiguredCertificate() throws Exception {
        HubServer hub = STACK.start(HubServer.start(STACK.hubConfig()));
        STACK.start(UserServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        STACK.start(PostServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        // any web certificate will do; this one is from a CA of its own, as a public one would be
        LocalCa web = LocalCa.openOrCreate(STACK.directory("web-ca-"), "web.example");
        IdentityFiles edge = web.ensure("edge");
        GatewayServer gateway = STACK.start(GatewayServer.start(STACK.serviceConfig(hub.port(), Map.of(
                "server.tls.private-key.pem.key.resource.path", edge.privateKey().toString(),
                "server.tls.private-key.pem.cert-chain.resource.path", edge.certificate().toString()))));
        // the management port shows the gateway's identity, not the web certificate
        URI ready = URI.create("https://127.0.0.1:" + gateway.managementPort() + "/observe/health/ready");
        try (HttpClient management = STACK.http()) {
            await().atMost(Duration.ofSeconds(15)).until(
                    () -> management.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.discarding())
                                  .statusCode() == 200);
        }

        for (HttpClient.Version version : HttpClient.Version.values()) {
            try (HttpClient http = HttpClient.newBuilder().sslContext(web.trustingContext()).version(version).build()) {
                HttpResponse<String> page = http.send(
                        HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + gateway.port() + "/post?pageSize=1"))
                                .build(), HttpResponse.BodyHandlers.ofString());
                assertThat(page.statusCode()).as(page.body()).isEqualTo(200);
                assertThat(page.version()).isEqualTo(version);
            }
        }
        try (HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
            assertThatThrownBy(() -> plain.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port()
                                                                                  + "/post?pageSize=1"))
                                                        .timeout(Duration.ofSeconds(5)).build(),
                                                HttpResponse.BodyHandlers.discarding()))
                    .as("plain HTTP on the TLS port").isNotNull();
        }
    }
}
