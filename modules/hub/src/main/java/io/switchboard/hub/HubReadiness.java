package io.switchboard.hub;

import io.helidon.health.HealthCheckResponse;
import io.switchboard.hub.etcd.EtcdProbe;
import io.switchboard.hub.view.InstanceView;
import io.switchboard.server.ReadinessCheck;

/**
 * The hub's readiness ({@code etcd} in {@code /observe/health/ready}): UP while etcd answers, the instance view is
 * synced and the hub is not stopping. Thread safe.
 */
final class HubReadiness extends ReadinessCheck {
    private final EtcdProbe probe;
    private final InstanceView view;
    private volatile boolean stopping;

    HubReadiness(EtcdProbe probe, InstanceView view) {
        super("etcd");
        this.probe = probe;
        this.view = view;
    }

    /**
     * Whether the hub can serve.
     *
     * @return true when ready
     */
    boolean ready() {
        return !stopping && probe.reachable() && view.synced();
    }

    /**
     * Reports not ready from now on.
     */
    void stopping() {
        stopping = true;
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.builder()
                .status(ready())
                .detail("etcd", probe.reachable() ? "reachable" : "unreachable")
                .detail("view", view.synced() ? "synced" : "not synced")
                .detail("instances", view.size())
                .build();
    }
}
