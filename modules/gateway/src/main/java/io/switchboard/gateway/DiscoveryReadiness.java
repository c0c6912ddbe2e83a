package io.switchboard.gateway;

import io.helidon.health.HealthCheckResponse;
import io.switchboard.server.ReadinessCheck;

/**
 * The gateway's readiness ({@code discovery} in {@code /observe/health/ready}): UP once the hub has answered with
 * every instance and the routes they publish are read. Thread safe.
 */
final class DiscoveryReadiness extends ReadinessCheck {
    private final LiveRoutes routes;

    DiscoveryReadiness(LiveRoutes routes) {
        super("discovery");
        this.routes = routes;
    }

    @Override
    public HealthCheckResponse call() {
        boolean ready = routes.get() != null;
        return HealthCheckResponse.builder()
                .status(ready)
                .detail("discovery", ready ? "synced" : "waiting for the hub")
                .build();
    }
}
