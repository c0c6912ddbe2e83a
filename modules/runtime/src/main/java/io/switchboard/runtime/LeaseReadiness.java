package io.switchboard.runtime;

import io.helidon.health.HealthCheckResponse;
import io.switchboard.registry.Registration;
import io.switchboard.server.ReadinessCheck;

/**
 * A business service's readiness ({@code registration} in {@code /observe/health/ready}): UP only while its
 * registration lease is alive and renewed on time, and the service is not stopping. Thread safe.
 */
final class LeaseReadiness extends ReadinessCheck {
    private volatile Registration registration;
    private volatile boolean stopping;

    LeaseReadiness() {
        super("registration");
    }

    /**
     * Follows this registration from now on.
     *
     * @param registration the service's registration
     */
    void follow(Registration registration) {
        this.registration = registration;
    }

    /**
     * Reports not ready from now on.
     */
    void stopping() {
        stopping = true;
    }

    /**
     * Whether the service should receive traffic.
     *
     * @return true when registered, renewed on time and not stopping
     */
    boolean ready() {
        Registration current = registration;
        return !stopping && current != null && current.healthy();
    }

    @Override
    public HealthCheckResponse call() {
        Registration current = registration;
        return HealthCheckResponse.builder()
                .status(ready())
                .detail("lease", current == null ? "none" : Long.toHexString(current.leaseId()))
                .detail("state", stopping ? "stopping" : current != null && current.healthy() ? "renewed" : "lost")
                .build();
    }
}
