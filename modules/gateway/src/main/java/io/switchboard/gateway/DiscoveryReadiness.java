package io.switchboard.gateway;

import io.helidon.health.HealthCheck;
import io.helidon.health.HealthCheckResponse;
import io.helidon.health.HealthCheckType;
import io.switchboard.gateway.upstream.Upstreams;

/**
 * The gateway's readiness ({@code discovery} in {@code /observe/health/ready}): UP once the hub has answered with
 * every backend's instances. Thread safe.
 */
final class DiscoveryReadiness implements HealthCheck {
    private final Upstreams upstreams;

    DiscoveryReadiness(Upstreams upstreams) {
        this.upstreams = upstreams;
    }

    @Override
    public String name() {
        return "discovery";
    }

    @Override
    public HealthCheckType type() {
        return HealthCheckType.READINESS;
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
