package io.switchboard.registry.impl;

import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;

import io.grpc.Attributes;
import io.grpc.EquivalentAddressGroup;
import io.grpc.ManagedChannel;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.registry.Balancing;
import io.switchboard.registry.CallPolicy;
import io.switchboard.registry.Discovery;
import io.switchboard.registry.ServiceEndpoints;

/**
 * Discovery through hub Watch streams, one per service, shared by every caller in the process. Thread safe.
 */
public final class WatchingDiscovery implements Discovery, AutoCloseable {
    /** Attribute carrying the instance id on each address, for logs and metrics. */
    static final Attributes.Key<String> INSTANCE_ID = Attributes.Key.create("switchboard.instance-id");

    private static final System.Logger LOG = System.getLogger(WatchingDiscovery.class.getName());

    private final HubConnection hub;
    private final Map<String, ServiceWatch> watches = new ConcurrentHashMap<>();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("registry-watch").daemon().factory());

    /**
     * Discovery over a hub connection.
     *
     * @param hub hub connection
     */
    public WatchingDiscovery(HubConnection hub) {
        this.hub = hub;
        LeastOutstandingLoadBalancer.register();
    }

    @Override
    public ServiceEndpoints endpoints(String service) {
        return watches.computeIfAbsent(service, name -> {
            ServiceWatch watch = new ServiceWatch(hub, name, scheduler);
            watch.start();
            return watch;
        });
    }

    @Override
    public ManagedChannel channel(String service, Balancing balancing, Set<String> idempotent, CallPolicy policy) {
        ServiceEndpoints endpoints = endpoints(service);
        return Transport.channel(service, new InstanceAddresses(endpoints), hub.tls())
                .defaultServiceConfig(ServiceConfigs.of(balancing, idempotent, policy))
                .enableRetry()
                .intercept(TriedInstances.INTERCEPTOR)
                .build();
    }

    @Override
    public void close() {
        watches.values().forEach(ServiceWatch::close);
        scheduler.shutdownNow();
    }

    /**
     * One address group per instance.
     *
     * @param instances live instances
     * @return address groups, skipping hosts that do not resolve
     */
    static List<EquivalentAddressGroup> addresses(List<Instance> instances) {
        List<EquivalentAddressGroup> groups = new ArrayList<>(instances.size());
        for (Instance instance : instances) {
            InetSocketAddress address = new InetSocketAddress(instance.getHost(), instance.getPort());
            if (address.isUnresolved()) {
                LOG.log(Level.WARNING, "instance " + instance.getService() + "/" + instance.getId() + " has host "
                                       + instance.getHost() + " which does not resolve; skipping it");
                continue;
            }
            groups.add(new EquivalentAddressGroup(address,
                                                  Attributes.newBuilder().set(INSTANCE_ID, instance.getId()).build()));
        }
        return groups;
    }

    private record InstanceAddresses(ServiceEndpoints endpoints) implements AddressSource {
        @Override
        public AutoCloseable subscribe(Consumer<List<EquivalentAddressGroup>> listener) {
            return endpoints.subscribe(instances -> listener.accept(addresses(instances)));
        }
    }
}
