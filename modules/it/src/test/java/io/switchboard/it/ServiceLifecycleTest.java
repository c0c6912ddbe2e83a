package io.switchboard.it;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import io.switchboard.testkit.EtcdServer;
import io.switchboard.testkit.FreePorts;
import io.switchboard.testkit.JavaProcess;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static io.switchboard.it.Components.TTL;
import static io.switchboard.it.Components.ready;
import static io.switchboard.it.Components.status;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A business service as it runs in production (java -jar), with the real hub and etcd: readiness is the lease,
 * SIGTERM deregisters at once and exits 0.
 */
@Timeout(value = 120, unit = SECONDS)
class ServiceLifecycleTest {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"user", "post", "comment"})
    void readinessIsTheLeaseAndSigtermDeregistersAtOnce(String name) throws Exception {
        int hubPort = FreePorts.next();
        int port = FreePorts.next();
        Path data = Files.createTempDirectory(name + "-it-");
        try (EtcdServer etcd = EtcdServer.start();
             Client client = Client.builder().endpoints(etcd.endpoint()).build();
             JavaProcess service = Components.service(name, hubPort, port, data)) {
            // no hub yet: the service lives but is not ready
            await().atMost(Duration.ofSeconds(20)).until(() -> status(port, "/observe/health/live") == 200);
            assertThat(status(port, "/observe/health/ready")).isEqualTo(503);

            try (JavaProcess hub = Components.hub(etcd.endpoint(), hubPort)) {
                await().atMost(Duration.ofSeconds(20)).until(() -> ready(port));
                assertThat(instances(client, name)).isEqualTo(1);

                // etcd away for longer than the TTL: not ready; back: ready again within TTL + 5 s
                etcd.kill();
                await().atMost(Duration.ofSeconds(TTL + 2)).until(() -> status(port, "/observe/health/ready") == 503);
                // and it stays not ready for two TTLs while etcd is away
                await().during(Duration.ofSeconds(TTL * 2)).atMost(Duration.ofSeconds(TTL * 2 + 5))
                        .until(() -> status(port, "/observe/health/ready") == 503);
                etcd.restart();
                await().atMost(Duration.ofSeconds(TTL + 5)).until(() -> ready(port));
                assertThat(instances(client, name)).isEqualTo(1);

                service.terminate();
                long start = System.nanoTime();
                await().atMost(Duration.ofSeconds(TTL + 5)).pollInterval(Duration.ofMillis(20))
                        .until(() -> instances(client, name) == 0);
                System.out.printf("%s record gone %d ms after SIGTERM%n", name,
                                  Duration.ofNanos(System.nanoTime() - start).toMillis());
                assertThat(service.waitFor(Duration.ofSeconds(15))).as(service.output()).isZero();
                // gone because the service revoked its lease on the way out, not because the lease ran out
                assertThat(service.output()).contains("deregistered " + name + "/", name + " stopped")
                        .doesNotContain("could not deregister", "Exception");
                hub.stop(Duration.ofSeconds(15));
            }
        }
    }

    private static long instances(Client client, String service) throws Exception {
        return client.getKVClient().get(ByteSequence.from("/switchboard/services/" + service + "/", StandardCharsets.UTF_8),
                                        GetOption.builder().isPrefix(true).withCountOnly(true).build())
                .get(5, TimeUnit.SECONDS).getCount();
    }
}
