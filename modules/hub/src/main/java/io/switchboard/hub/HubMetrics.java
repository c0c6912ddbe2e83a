package io.switchboard.hub;

import java.util.List;

import io.helidon.metrics.api.Counter;
import io.helidon.metrics.api.Gauge;
import io.helidon.metrics.api.MeterRegistry;
import io.helidon.metrics.api.Tag;
import io.switchboard.hub.etcd.EtcdProbe;
import io.switchboard.hub.view.InstanceView;

/**
 * The hub's meters, exported at {@code /observe/metrics} in Prometheus text. Thread safe.
 */
final class HubMetrics {
    private final Counter registrations;
    private final Counter keepalives;
    private final Counter keepaliveCalls;
    private final Counter turnedAway;
    private final Counter deregistrations;
    private final Counter etcdErrors;
    private final MeterRegistry registry;

    HubMetrics(MeterRegistry registry) {
        this.registry = registry;
        registrations = registry.getOrCreate(Counter.builder("switchboard.hub.registrations")
                                                     .description("Instances registered (leases granted)"));
        keepalives = registry.getOrCreate(Counter.builder("switchboard.hub.keepalives")
                                                  .description("Leases renewed through KeepAlive"));
        keepaliveCalls = registry.getOrCreate(Counter.builder("switchboard.hub.keepalive.calls")
                                                      .description("KeepAlive calls served (each renews a batch)"));
        turnedAway = registry.getOrCreate(Counter.builder("switchboard.hub.registrations.turned.away")
                                                  .description("Register calls answered UNAVAILABLE because too many"
                                                               + " were in flight"));
        deregistrations = registry.getOrCreate(Counter.builder("switchboard.hub.deregistrations")
                                                       .description("Leases revoked through Deregister"));
        etcdErrors = registry.getOrCreate(Counter.builder("switchboard.hub.etcd.errors")
                                                  .description("etcd operations that failed or timed out"));
    }

    /**
     * Adds the gauges that read live state.
     *
     * @param registry registry
     * @param view     the instance view
     * @param probe    the etcd probe
     */
    static void gauges(MeterRegistry registry, InstanceView view, EtcdProbe probe) {
        registry.getOrCreate(Gauge.builder("switchboard.hub.watches.open", view, v -> v.subscriberCount())
                                     .description("Watch streams open on this replica"));
        registry.getOrCreate(Gauge.builder("switchboard.hub.instances", view, v -> v.size())
                                     .description("Instances in this replica's view"));
        registry.getOrCreate(Gauge.builder("switchboard.hub.etcd.up", probe, p -> p.reachable() ? 1 : 0)
                                     .description("1 while etcd answers, else 0"));
    }

    void registered() {
        registrations.increment();
    }

    void renewed(int leases) {
        keepalives.increment(leases);
        keepaliveCalls.increment();
    }

    void turnedAway() {
        turnedAway.increment();
    }

    void deregistered() {
        deregistrations.increment();
    }

    void etcdError() {
        etcdErrors.increment();
    }

    /* a call refused for who its caller is: no-identity, other-service */
    void refused(String reason) {
        registry.getOrCreate(Counter.builder("switchboard.hub.refused.calls")
                                     .description("Calls refused for their caller's identity or a cap on instances, by reason")
                                     .tags(List.of(Tag.create("reason", reason))))
                .increment();
    }
}
