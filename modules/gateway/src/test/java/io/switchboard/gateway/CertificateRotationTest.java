package io.switchboard.gateway;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import javax.net.ssl.SSLSocket;

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
import static org.awaitility.Awaitility.await;

/**
 * Rotation without a restart: the post service's certificate files are replaced while calls flow through the
 * gateway; post presents the new certificate on the next connection, says so in its expiry metric, and no call
 * fails meanwhile.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class CertificateRotationTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    @RegisterExtension
    static final Stack STACK = new Stack();

    @Test
    void replacedCertificateFilesAreUsedWithoutARestartAndNoCallFails() throws Exception {
        HubServer hub = STACK.start(HubServer.start(STACK.hubConfig()));
        STACK.start(UserServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        IdentityFiles files = STACK.identityFiles("post");
        PostServer post = STACK.start(PostServer.start(STACK.serviceConfig(hub.port(), Map.of(
                "tls.certificate", files.certificate().toString(),
                "tls.private-key", files.privateKey().toString(),
                "tls.trust-bundle", files.trustBundle().toString(),
                "tls.reload-every", "PT0.2S"))));
        GatewayServer gateway = STACK.start(GatewayServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        URI list = URI.create("http://127.0.0.1:" + gateway.port() + "/post?pageSize=1");
        await().atMost(Duration.ofSeconds(15)).until(() -> get(list) == 200);
        Instant before = presented(post.runtime().port()).getNotAfter().toInstant();
        assertThat(before).isAfter(Instant.now().plus(Duration.ofDays(80)));

        List<Integer> statuses = new CopyOnWriteArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        Thread load = Thread.ofVirtual().start(() -> {
            while (!stop.get()) {
                statuses.add(get(list));
            }
        });
        try {
            await().atMost(Duration.ofSeconds(5)).until(() -> statuses.size() >= 20);
            // a rotation: new key and certificate, each file replaced whole
            LocalCa.openOrCreate(STACK.localCa(), LocalCa.DEFAULT_TRUST_DOMAIN).issue("post", Duration.ofDays(1));
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(
                    () -> presented(post.runtime().port()).getNotAfter().toInstant()
                            .isBefore(Instant.now().plus(Duration.ofDays(2))));
            int after = statuses.size();
            await().atMost(Duration.ofSeconds(5)).until(() -> statuses.size() >= after + 20);
        } finally {
            stop.set(true);
            load.join(5_000);
        }
        assertThat(statuses).as("calls through the gateway while post's certificate was replaced").containsOnly(200);
        String metrics = STACK.http().send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + post.runtime().managementPort()
                                                                             + "/observe/metrics")).build(),
                                           HttpResponse.BodyHandlers.ofString()).body();
        // the expiry the service exports is the new certificate's
        String line = metrics.lines().filter(l -> l.startsWith("switchboard_tls_certificate_expiration_timestamp_seconds{"
                                                              + "identity=\"spiffe://switchboard.local/service/post\""))
                .findFirst().orElseThrow(() -> new AssertionError(metrics));
        Instant exported = Instant.ofEpochSecond((long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
        assertThat(exported).isBefore(Instant.now().plus(Duration.ofDays(2)));
    }

    /* The certificate the server presents to a new connection (no client certificate: it is not required). */
    private static X509Certificate presented(int port) throws Exception {
        try (SSLSocket socket = (SSLSocket) STACK.trustingContext().getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.startHandshake();
            return (X509Certificate) socket.getSession().getPeerCertificates()[0];
        }
    }

    private static int get(URI uri) {
        try {
            return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                             HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }
}
