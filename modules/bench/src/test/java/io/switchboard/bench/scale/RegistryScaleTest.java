package io.switchboard.bench.scale;

import java.time.Duration;
import java.util.List;

import io.switchboard.hub.Main;
import io.switchboard.testkit.EtcdServer;
import io.switchboard.testkit.FreePorts;
import io.switchboard.testkit.JavaProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The benchmark's scenario at a tenth of its size, for correctness, not timings: real etcd, two hub processes,
 * the real registry library.
 */
@Timeout(value = 300, unit = SECONDS)
class RegistryScaleTest {
    @Test
    void thousandInstancesTwentySubscribersSurviveChurnAHubKillAndAnEtcdOutage() {
        Scenario.Settings settings = new Scenario.Settings(1000, 10, 20, Duration.ofSeconds(20), 20, 10,
                                                           Duration.ofSeconds(12));
        try (ScaleCluster cluster = ScaleCluster.start(EtcdServer.reserve(), List.of(FreePorts.next(), FreePorts.next()),
                                                       env -> JavaProcess.mainClass(Main.class, env))) {
            Scenario.Report report = Scenario.run(cluster, settings, System.out);

            // the churn happened, at about its rate, and every call of it succeeded
            long expected = settings.churnPerSecond() * settings.steady().toSeconds();
            assertThat(report.churnErrors).as("churn calls that failed").isZero();
            assertThat(report.churnRegistrationsSent).as("registrations sent").isGreaterThanOrEqualTo(expected * 9 / 10);
            assertThat(report.churnRegistered).as("registrations answered with a lease")
                    .isEqualTo(report.churnRegistrationsSent);
            // all but the last second's registrations (and a few still unanswered when their turn came) are deregistered
            assertThat(report.churnDeregistrationsSent).as("deregistrations sent")
                    .isGreaterThanOrEqualTo(report.churnRegistrationsSent - 2L * settings.churnPerSecond());
            assertThat(report.churnDeregistered).as("deregistrations answered").isEqualTo(report.churnDeregistrationsSent);
            assertThat(report.leasesLost).as("leases lost under churn").isZero();
            assertThat(report.unhealthySamples).as("registrations seen unhealthy under churn").isZero();
            assertThat(report.propagation.getTotalCount()).as("changes seen by every subscriber").isPositive();
            assertThat(report.unpropagated).as("changes never seen by every subscriber").isZero();
            // one watch per hub replica, however many subscribers
            assertThat(report.watchers).isLessThanOrEqualTo(2.0 * cluster.hubCount());
            assertThat(report.watchStreams).isLessThanOrEqualTo(2.0 * cluster.hubCount());
            assertThat(report.leasesLostAfterHubKill).as("leases lost when a hub died").isZero();
            assertThat(report.staleAfterOutage).as("stale or missing instances after the etcd outage").isZero();
        }
    }
}
