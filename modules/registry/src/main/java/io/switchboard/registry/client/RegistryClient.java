package io.switchboard.registry.client;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import com.google.protobuf.ByteString;
import io.grpc.ClientInterceptor;
import io.helidon.config.Config;
import io.switchboard.api.hub.v1.ApiSchema;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.identity.WorkloadTls;
import io.switchboard.registry.Discovery;
import io.switchboard.registry.Registration;
import io.switchboard.registry.impl.HubConnection;
import io.switchboard.registry.impl.KeptRegistration;
import io.switchboard.registry.impl.LeaseRenewals;
import io.switchboard.registry.impl.RegisterSlots;
import io.switchboard.registry.impl.WatchingDiscovery;

/**
 * A process's link to the service hub: registrations and discovery over one channel to the hub replicas.
 * <p>
 * The hub endpoints are a comma-separated {@code host:port} list; calls are spread over the replicas that are
 * up, so a dying replica costs a retry, not a lease. Thread safe; close it when the process stops.
 */
public final class RegistryClient implements AutoCloseable {
    /** Default lease TTL. */
    public static final Duration DEFAULT_TTL = Duration.ofSeconds(10);
    /*
     * Register calls one client has in flight at once: a process with thousands of registrations, or a crowd
     * registering again after an etcd outage, must not open thousands of streams on the hub at the same moment.
     */
    private static final int MAX_REGISTERING = 32;

    private final HubConnection hub;
    private final RegisterSlots registerSlots = new RegisterSlots(MAX_REGISTERING);
    private final LeaseRenewals renewals;
    private final WatchingDiscovery discovery;

    private RegistryClient(HubConnection hub) {
        this.hub = hub;
        this.renewals = new LeaseRenewals(hub);
        this.discovery = new WatchingDiscovery(hub);
    }

    /**
     * A client of the given hub replicas.
     *
     * @param hubEndpoints comma-separated {@code host:port}, for example {@code 127.0.0.1:8004}
     * @return the client
     * @throws IllegalArgumentException when an endpoint is not {@code host:port}
     */
    public static RegistryClient create(String hubEndpoints) {
        return create(hubEndpoints, null);
    }

    /**
     * A client of the given hub replicas over mutual TLS: it shows the component's certificate to the hub and to
     * the instances it calls, and calls only a hub and instances whose certificates name them.
     *
     * @param hubEndpoints comma-separated {@code host:port}
     * @param tls          the component's TLS, or null for plaintext
     * @return the client
     * @throws IllegalArgumentException when an endpoint is not {@code host:port}
     */
    public static RegistryClient create(String hubEndpoints, WorkloadTls tls) {
        return create(hubEndpoints, tls, List.of());
    }

    private static RegistryClient create(String hubEndpoints, WorkloadTls tls, List<ClientInterceptor> interceptors) {
        List<String> endpoints = Arrays.stream(hubEndpoints.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .toList();
        return new RegistryClient(HubConnection.open(endpoints, tls, interceptors));
    }

    /**
     * A client of the hub replicas in {@code hub.endpoints} (default {@code 127.0.0.1:8004}).
     *
     * @param config root configuration
     * @param tls    the component's TLS, or null for plaintext
     * @return the client
     */
    public static RegistryClient create(Config config, WorkloadTls tls) {
        return create(config, tls, List.of());
    }

    /**
     * A client of the hub replicas in {@code hub.endpoints}, whose calls (to the hub, and to instances through
     * {@link #discovery()}) go through the given interceptors, such as {@link io.switchboard.server.Tracing}'s.
     *
     * @param config       root configuration
     * @param tls          the component's TLS, or null for plaintext
     * @param interceptors on every call; the first runs first
     * @return the client
     */
    public static RegistryClient create(Config config, WorkloadTls tls, List<ClientInterceptor> interceptors) {
        return create(config.get("hub.endpoints").asString().orElse("127.0.0.1:8004"), tls, interceptors.reversed());
    }

    /**
     * Registers an instance and keeps it registered until the registration is closed. Returns at once; the
     * first registration happens in the background (see {@link Registration#healthy()}). The leases of all
     * registrations of this client are renewed together, in batched calls to the hub.
     *
     * @param instance the record
     * @param ttl      lease TTL, 2..300 s
     * @return the registration
     */
    public Registration register(Instance instance, Duration ttl) {
        return KeptRegistration.start(hub, registerSlots, renewals, instance, ByteString.EMPTY, ttl);
    }

    /**
     * Registers an instance with the API it serves, as {@link #register(Instance, Duration)}: before it registers,
     * the schema is published through the hub (once per content, however many instances publish it), and the
     * instance record names it, so that a gateway learns the instance's routes from the registry. A schema the hub
     * refuses (INVALID_ARGUMENT) stops the registration with an error in the log, as a bad record does.
     *
     * @param instance the record; its {@code schema_id} is set from the published schema
     * @param schema   the services the instance serves and the files that define them
     * @param ttl      lease TTL, 2..300 s
     * @return the registration
     */
    public Registration register(Instance instance, ApiSchema schema, Duration ttl) {
        return KeptRegistration.start(hub, registerSlots, renewals, instance, schema.toByteString(), ttl);
    }

    /**
     * Service discovery through this client's hub connection.
     *
     * @return discovery
     */
    public Discovery discovery() {
        return discovery;
    }

    /**
     * Stops every watch and closes the hub channel. Registrations should be closed first, so that they
     * deregister.
     */
    @Override
    public void close() {
        discovery.close();
        renewals.close();
        hub.close();
    }
}
