package io.switchboard.hub;

import io.helidon.health.HealthCheck;
import io.helidon.health.HealthCheckResponse;
import io.helidon.health.HealthCheckType;
import io.switchboard.hub.etcd.EtcdProbe;
import io.switchboard.hub.view.InstanceView;

/**
 * The hub's readiness ({@code etcd} in {@code /observe/health/ready}): UP while etcd answers, the instance view is
 * synced and the hub is not stopping. Thread safe.
 */
final class HubReadiness implements HealthCheck {
    private final EtcdProbe probe;
    private final InstanceView view;
    private volatile boolean stopping;

    HubReadiness(EtcdProbe probe, InstanceView view) {
        this.probe = probe;
        this.view = view;
    }

    @Override
    public String name() {
        return "etcd";
    }

    @Override
    public HealthCheckType type() {
        return HealthCheckType.READINESS;
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
