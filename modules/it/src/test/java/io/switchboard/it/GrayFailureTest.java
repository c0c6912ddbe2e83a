package io.switchboard.it;

import java.util.Map;

import io.switchboard.testkit.EtcdServer;
import io.switchboard.testkit.PostgresServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static io.switchboard.it.Api.send;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Gray failures behind the gateway, all as real processes: an instance that freezes costs no request and no long wait.
 */
@Timeout(value = 180, unit = SECONDS)
class GrayFailureTest {
    @Test
    void aPostInstanceFrozenFor20SecondsCostsNoRequestAndNoneWaitsOver1500Ms() throws Exception {
        // the default 10 s lease, as in production: the frozen instance stays registered for half the freeze
        try (PostgresServer postgres = PostgresServer.start(); EtcdServer etcd = EtcdServer.start();
             TwoPosts stack = TwoPosts.start(etcd, postgres, Map.of("REGISTRY_TTL", "10"), "+4424000000")) {
            ClosedLoop load = ClosedLoop.start(8, () -> send(stack.gatewayPort, "GET", "/post/" + stack.postId, null, null)
                    .statusCode()).onFirstFailure(stack::gatewaySnapshot);
            load.awaitAnswers(400);
            stack.postA.freeze();
            try {
                // the scenario is a freeze of this length; the clients keep calling all along
                Thread.sleep(20_000);
            } finally {
                stack.postA.thaw();
            }
            load.awaitAnswers(400);
            ClosedLoop.Result result = load.finish();

            System.out.println("GET /post/{id} through the gateway, one of two instances frozen 20 s: " + result);
            assertThat(result.statuses().keySet()).as("failures: %s", result.failures()).containsOnly(200);
            assertThat(result.statuses().get(200)).isGreaterThan(1_000);
            assertThat(result.maxMillis()).as("longest request, ms").isLessThan(1_500);
        }
    }
}
