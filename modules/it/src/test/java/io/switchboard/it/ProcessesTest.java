package io.switchboard.it;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.switchboard.testkit.EtcdServer;
import io.switchboard.testkit.FreePorts;
import io.switchboard.testkit.JavaProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The hub as built (java -jar hub.jar) and services as separate processes, stopped and killed as in production.
 */
@Timeout(value = 120, unit = SECONDS)
class ProcessesTest {

    @Test
    void aKilledServiceDisappearsWhenItsLeaseExpiresAndAStoppedOneBeforeItExits() throws Exception {
        int ttl = 3;
        int hubPort = FreePorts.next();
        try (EtcdServer etcd = EtcdServer.start();
             Client client = Client.builder().endpoints(etcd.endpoint()).build();
             JavaProcess hub = Components.hub(etcd.endpoint(), hubPort)) {
            await().atMost(Duration.ofSeconds(20)).until(() -> Components.ready(hubPort));
            Map<String, String> env = Map.of("HUB_ENDPOINTS", "127.0.0.1:" + hubPort, "SERVICE", "orders",
                                             "TTL_SECONDS", String.valueOf(ttl), "TLS_LOCAL_CA", Components.CA.toString());

            try (JavaProcess killed = registrant(env, "killed"); JavaProcess stopped = registrant(env, "stopped")) {
                await().atMost(Duration.ofSeconds(20)).until(() -> exists(client, "killed") && exists(client, "stopped"));

                killed.kill();
                long start = System.nanoTime();
                // nothing deregisters a killed process: only the lease's expiry, at most a TTL after its last renewal,
                // removes it (etcd checks expiry every 500 ms; the rest is room for a loaded host)
                await().atMost(Duration.ofSeconds(ttl + 5)).pollInterval(Duration.ofMillis(100))
                        .until(() -> !exists(client, "killed"));
                System.out.printf("killed registrant gone after %d ms (ttl %d s)%n",
                                  Duration.ofNanos(System.nanoTime() - start).toMillis(), ttl);
                assertThat(exists(client, "stopped")).isTrue();

                assertThat(stopped.stop(Duration.ofSeconds(10))).isZero();
                assertThat(exists(client, "stopped")).as("deregistered before exit").isFalse();
            }
            assertThat(hub.stop(Duration.ofSeconds(15))).as(hub.output()).isZero();
            assertThat(hub.output()).contains("hub stopped").doesNotContain("Exception");
        }
    }

    @Test
    void theHubJarStartsBeforeEtcdAndBecomesReadyWhenEtcdArrives() throws Exception {
        int hubPort = FreePorts.next();
        try (EtcdServer etcd = EtcdServer.start()) {
            etcd.kill();
            try (JavaProcess hub = Components.hub(etcd.endpoint(), hubPort)) {
                await().atMost(Duration.ofSeconds(20)).until(() -> Components.status(hubPort, "/observe/health/live") == 200);
                assertThat(Components.status(hubPort, "/observe/health/ready")).isEqualTo(503);
                etcd.restart();
                await().atMost(Duration.ofSeconds(15)).until(() -> Components.ready(hubPort));
                // the log goes out through a buffer written every 100 ms
                await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(hub.output())
                        .contains("etcd unreachable at start").contains("etcd reachable again"));
            }
        }
    }

    @Test
    void aComponentThatCannotStartAsConfiguredSaysWhyInOneLineAndExits2() throws Exception {
        // no identity at all: the operator forgot the certificate (the chart mounts one)
        Map<String, String> noIdentity = Map.of("SERVER_PORT", String.valueOf(FreePorts.next()),
                                                "HUB_ENDPOINTS", "127.0.0.1:1");
        try (JavaProcess post = JavaProcess.jar(Components.jar("post"), noIdentity)) {
            assertThat(post.waitFor(Duration.ofSeconds(30))).isEqualTo(2);
            assertThat(post.output()).contains("post cannot start: post has no identity").doesNotContain("\tat ");
        }
        // its port is taken: Helidon logs its own error (with the BindException's trace) and returns as if started;
        // before Servers.start checked, the hub then exited 0 with nothing running
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             JavaProcess hub = Components.hub("http://127.0.0.1:1", taken.getLocalPort())) {
            assertThat(hub.waitFor(Duration.ofSeconds(30))).as(hub.output()).isEqualTo(2);
            assertThat(hub.output()).contains("hub cannot start: cannot listen on port " + taken.getLocalPort());
        }
    }

    private static JavaProcess registrant(Map<String, String> env, String id) {
        Map<String, String> withId = new java.util.HashMap<>(env);
        withId.put("INSTANCE_ID", id);
        return JavaProcess.mainClass(Registrant.class, withId);
    }

    private static boolean exists(Client client, String id) throws Exception {
        return client.getKVClient().get(ByteSequence.from("/switchboard/services/orders/" + id, StandardCharsets.UTF_8))
                .get().getCount() == 1;
    }
}
