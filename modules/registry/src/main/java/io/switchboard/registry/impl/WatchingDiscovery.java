package io.switchboard.registry.impl;

import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Predicate;

import com.google.protobuf.ByteString;
import io.grpc.Attributes;
import io.grpc.EquivalentAddressGroup;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.switchboard.api.hub.v1.ApiSchema;
import io.switchboard.api.hub.v1.GetSchemaRequest;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.registry.Balancing;
import io.switchboard.registry.CallPolicy;
import io.switchboard.registry.Discovery;
import io.switchboard.registry.ServiceEndpoints;
import io.switchboard.schema.ApiSchemas;

/**
 * Discovery through hub Watch streams, one per service (and one of every service when asked), shared by every
 * caller in the process. Thread safe.
 */
public final class WatchingDiscovery implements Discovery, AutoCloseable {
    /** Attribute carrying the instance id on each address, for logs and metrics. */
    static final Attributes.Key<String> INSTANCE_ID = Attributes.Key.create("switchboard.instance-id");

    private static final System.Logger LOG = System.getLogger(WatchingDiscovery.class.getName());
    /* the watch of every service: the hub's Watch with no service name */
    private static final String ALL = "";
    private static final Duration SCHEMA_DEADLINE = Duration.ofSeconds(5);

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
    public ServiceEndpoints allServices() {
        return endpoints(ALL);
    }

    @Override
    public ApiSchema schema(String schemaId) {
        ByteString bytes = hub.blocking(SCHEMA_DEADLINE)
                .getSchema(GetSchemaRequest.newBuilder().setSchemaId(schemaId).build()).getSchema();
        try {
            return ApiSchemas.verified(schemaId, bytes.toByteArray());
        } catch (IllegalArgumentException e) {
            throw Status.DATA_LOSS.withDescription("the hub's answer: " + e.getMessage()).asRuntimeException();
        }
    }

    @Override
    public ManagedChannel channel(String service, Balancing balancing, Set<String> idempotent, CallPolicy policy) {
        return channel(service, endpoints(service), instance -> true, balancing, idempotent, policy);
    }

    @Override
    public ManagedChannel channel(String service, Predicate<Instance> which, Balancing balancing, Set<String> idempotent,
                                  CallPolicy policy) {
        return channel(service, allServices(), ofService(service, which),
                       balancing, idempotent, policy);
    }

    @Override
    public ManagedChannel streamChannel(String service, Predicate<Instance> which, Balancing balancing, CallPolicy policy,
                                        int window) {
        if (window < 16 * 1024) {
            throw new IllegalArgumentException("a stream's flow-control window must be at least 16 KiB, got " + window);
        }
        return channel(service, allServices(), ofService(service, which),
                       balancing, Set.of(), policy.withHedgingDelay(Duration.ZERO), window, false);
    }

    private ManagedChannel channel(String service, ServiceEndpoints source, Predicate<Instance> which, Balancing balancing,
                                   Set<String> idempotent, CallPolicy policy) {
        return channel(service, source, which, balancing, idempotent, policy, Transport.FLOW_CONTROL_WINDOW, true);
    }

    /* the instances of one service that the caller's filter takes, from the view of every service */
    private static Predicate<Instance> ofService(String service, Predicate<Instance> which) {
        return instance -> service.equals(instance.getService()) && which.test(instance);
    }

    /*
     * retry: grpc-java's retries, hedges and transparent retries. Without, a call whose instance dies before it
     * answered anything fails instead of starting again elsewhere: a stream resumed by its client from its last
     * event, not restarted by the channel from its first request.
     */
    private ManagedChannel channel(String service, ServiceEndpoints source, Predicate<Instance> which, Balancing balancing,
                                   Set<String> idempotent, CallPolicy policy, int window, boolean retry) {
        var builder = Transport.channel(service, new InstanceAddresses(source, which), hub.tls())
                .flowControlWindow(window)
                .defaultServiceConfig(ServiceConfigs.of(balancing, idempotent, policy));
        return (retry ? builder.enableRetry() : builder.disableRetry())
                .intercept(TriedInstances.INTERCEPTOR)
                // after TriedInstances: grpc-java runs the interceptor added last first
                .intercept(hub.interceptors())
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

    private record InstanceAddresses(ServiceEndpoints endpoints, Predicate<Instance> which) implements AddressSource {
        @Override
        public AutoCloseable subscribe(Consumer<List<EquivalentAddressGroup>> listener) {
            // fed by the watch of every service: a change elsewhere leaves this channel's instances as they were
            AtomicReference<List<Instance>> last = new AtomicReference<>();
            return endpoints.subscribe(instances -> {
                List<Instance> taken = instances.stream().filter(which).toList();
                if (!taken.equals(last.getAndSet(taken))) {
                    listener.accept(addresses(taken));
                }
            });
        }
    }
}
