package io.switchboard.registry.impl;

import java.time.Duration;

import com.google.protobuf.ByteString;
import io.switchboard.api.hub.v1.Instance;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A registration's lease lifecycle against an in-process hub.
 */
@Timeout(value = 60, unit = SECONDS)
class KeptRegistrationUnitTest {
    private static final Duration TTL = Duration.ofSeconds(2);
    private static final Instance INSTANCE = Instance.newBuilder().setService("orders").setId("orders-1")
            .setHost("127.0.0.1").setPort(9001).build();

    private final FakeHub hub = new FakeHub();
    private final LeaseRenewals renewals = new LeaseRenewals(hub.connection);
    private final KeptRegistration registration = KeptRegistration.start(hub.connection, new RegisterSlots(1), renewals,
                                                                         INSTANCE, ByteString.EMPTY, TTL);

    @AfterEach
    void close() throws Exception {
        registration.close();
        renewals.close();
        hub.close();
    }

    @Test
    void registersAgainWithANewLeaseWhenTheHubReportsTheOldOneGone() {
        await().atMost(Duration.ofSeconds(5)).until(registration::healthy);
        long first = registration.leaseId();

        hub.gone.add(first);
        await().atMost(Duration.ofSeconds(5)).until(() -> registration.leaseId() != first && registration.healthy());
        assertThat(hub.registered).containsExactly(first, registration.leaseId());
        assertThat(renewals.size()).isEqualTo(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> !hub.renewalsOf(registration.leaseId()).isEmpty());
    }

    @Test
    void keepsItsLeaseWhileRenewalsFailAndIsHealthyAgainWhenTheyPass() {
        await().atMost(Duration.ofSeconds(5)).until(registration::healthy);
        long lease = registration.leaseId();

        hub.failNext.set(Integer.MAX_VALUE);
        // not renewed on time: two thirds of the TTL without a renewal
        await().atMost(Duration.ofSeconds(5)).until(() -> !registration.healthy());
        assertThat(registration.leaseId()).isEqualTo(lease);

        hub.failNext.set(0);
        await().atMost(Duration.ofSeconds(5)).until(registration::healthy);
        assertThat(registration.leaseId()).isEqualTo(lease);
        assertThat(hub.registered).containsExactly(lease);
    }

    @Test
    void closeRevokesTheLeaseAndStopsRenewing() {
        await().atMost(Duration.ofSeconds(5)).until(registration::healthy);
        long lease = registration.leaseId();

        registration.close();
        assertThat(hub.deregistered).containsExactly(lease);
        assertThat(registration.healthy()).isFalse();
        assertThat(registration.leaseId()).isZero();
        assertThat(renewals.size()).isZero();
    }
}
