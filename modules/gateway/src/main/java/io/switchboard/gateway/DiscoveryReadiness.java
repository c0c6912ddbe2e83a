package io.switchboard.gateway;

import io.helidon.health.HealthCheckResponse;
import io.switchboard.gateway.upstream.Upstreams;
import io.switchboard.server.ReadinessCheck;

/**
 * The gateway's readiness ({@code discovery} in {@code /observe/health/ready}): UP once the hub has answered with
 * every backend's instances. Thread safe.
 */
final class DiscoveryReadiness extends ReadinessCheck {
    private final Upstreams upstreams;

    DiscoveryReadiness(Upstreams upstreams) {
        super("discovery");
        this.upstreams = upstreams;
    }

    @Override
    public HealthCheckResponse call() {
        boolean ready = upstreams.ready();
        return HealthCheckResponse.builder()
                .status(ready)
                .detail("discovery", ready ? "synced" : "waiting for the hub")
                .build();
    }
}
