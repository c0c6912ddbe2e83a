package io.switchboard.runtime;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import io.grpc.BindableService;
import io.grpc.ServerInterceptor;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.helidon.config.Config;
import io.helidon.metrics.api.Gauge;
import io.helidon.metrics.api.Metrics;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.grpc.GrpcReflectionFeature;
import io.helidon.webserver.grpc.GrpcRouting;
import io.switchboard.api.hub.v1.ApiSchema;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.identity.WorkloadTls;
import io.switchboard.registry.Discovery;
import io.switchboard.registry.Registration;
import io.switchboard.registry.client.RegistryClient;
import io.switchboard.schema.ApiSchemas;
import io.switchboard.server.ComponentTls;
import io.switchboard.server.Servers;
import io.switchboard.server.Tracing;
import io.switchboard.server.grpc.CallLimit;
import io.switchboard.server.grpc.ClientAddress;
import io.switchboard.server.grpc.IdentifiedCallers;
import io.switchboard.server.grpc.RequestIds;

/**
 * A business service as it runs in production: its gRPC services, {@code grpc.health.v1}, reflection and the
 * observe endpoints on one port, registered through the hub once the server listens.
 * <p>
 * Two steps: {@link #create(Config, String)} connects to the hub, so that the service can find the services it
 * needs through {@link #discovery()} while it builds its own; {@link #start(List, List)} then starts the server
 * with those and registers the instance, publishing the API its services serve ({@link ApiSchemas}) so that a
 * gateway can learn its routes from the registry.
 * <p>
 * Readiness is the registration lease: {@code /observe/health/ready} is UP only while the lease is alive and
 * renewed on time. {@link #close()} stops in the order that moves traffic away first: not ready, deregistered,
 * in-flight calls drained ({@code server.shutdown-grace-period}), stopped.
 * <p>
 * With tracing on ({@link Tracing}: an {@code OTEL_*} exporter endpoint), every call gets a server span that
 * continues its caller's trace, and calls to the hub and to other services get client spans. Thread safe.
 */
public final class ServiceRuntime implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ServiceRuntime.class.getName());
    /* calls a service serves at once unless limits.calls says otherwise: beyond, UNAVAILABLE at once */
    private static final int DEFAULT_CALLS = 256;

    private final Config config;
    private final String service;
    private final Optional<WorkloadTls> tls;
    private final Tracing tracing;
    private final RegistryClient registry;
    private final HealthStatusManager grpcHealth = new HealthStatusManager();
    private final LeaseReadiness readiness = new LeaseReadiness();
    private WebServer server;
    private Registration registration;
    private boolean stopped;

    private ServiceRuntime(Config config, String service, Optional<WorkloadTls> tls) {
        this.config = config;
        this.service = service;
        this.tls = tls;
        this.tracing = Tracing.fromEnvironment(service);
        // calls to the hub (registrations, renewals) and to other services get client spans
        this.registry = RegistryClient.create(config, tls.orElse(null), tracing.clientInterceptors());
        grpcHealth.setStatus("", ServingStatus.NOT_SERVING);
    }

    /**
     * A service's runtime, connected to the hub (which may come later) but not serving yet.
     *
     * @param config  root configuration: {@code server.*}, {@code hub.endpoints}, {@code registry.*}, {@code tls.*}
     *                (see {@link ComponentTls}: the service's identity, shown to its callers and to what it calls)
     * @param service the service name to register under
     * @return the runtime, to {@link #start(List, List)}
     * @throws IllegalArgumentException when {@code tls.*} names no identity and no development switch
     */
    public static ServiceRuntime create(Config config, String service) {
        return new ServiceRuntime(config, service, ComponentTls.from(config.get("tls"), service));
    }

    /**
     * Starts the server with the service's gRPC services and registers the instance. Returns once the server
     * listens; registration completes in the background (the hub may come later). Every call goes through the
     * runtime's call metrics and request ids first, then through the given interceptors.
     *
     * @param interceptors the service's own interceptors, such as token verification
     * @param services     the service's gRPC services
     * @return this runtime
     * @throws IllegalStateException when already started
     */
    public synchronized ServiceRuntime start(List<ServerInterceptor> interceptors, List<BindableService> services) {
        if (server != null) {
            throw new IllegalStateException(service + " already started");
        }
        GrpcRouting.Builder grpc = GrpcRouting.builder();
        // the first interceptor runs first: the call's span holds the refusals and the time of the others
        tracing.serverInterceptors().forEach(grpc::intercept);
        grpc.intercept(new RpcMetrics(Metrics.globalRegistry()), new RequestIds(), new ClientAddress("gateway"),
                           new CallLimit(service, config.get("limits.calls").asInt().orElse(DEFAULT_CALLS)))
                .service(grpcHealth.getHealthService());
        // with an identity, only the platform's workloads call in (the gateway, other services); tokens say which user
        tls.ifPresent(ignored -> grpc.intercept(new IdentifiedCallers(service)));
        interceptors.forEach(grpc::intercept);
        services.forEach(grpc::service);
        server = Servers.builder(config.get("server"), readiness, tls.orElse(null))
                .addFeature(GrpcReflectionFeature.builder().enabled(true).build())
                .addRouting(grpc)
                .build();
        Metrics.globalRegistry().getOrCreate(Gauge.builder("switchboard.registration.healthy", readiness,
                                                           r -> r.ready() ? 1 : 0)
                                                     .description("1 while the registration lease is alive and renewed"));
        Servers.start(server, config.get("server"));
        register(config.get("registry"),
                 ApiSchemas.of(services.stream().map(s -> s.bindService().getServiceDescriptor()).toList()));
        return this;
    }

    /**
     * The port the server listens on.
     *
     * @return port
     * @throws IllegalStateException before {@link #start(List, List)}
     */
    public synchronized int port() {
        if (server == null) {
            throw new IllegalStateException(service + " not started");
        }
        return server.port();
    }

    /**
     * The management port: the observe endpoints.
     *
     * @return port
     * @throws IllegalStateException before {@link #start(List, List)}
     */
    public synchronized int managementPort() {
        if (server == null) {
            throw new IllegalStateException(service + " not started");
        }
        return server.port(Servers.MANAGEMENT);
    }

    /**
     * Discovery through this service's hub connection, to call other services.
     *
     * @return discovery
     */
    public Discovery discovery() {
        return registry.discovery();
    }

    /**
     * The service's tracing, for its database and its own spans.
     *
     * @return tracing, off unless an exporter is configured
     */
    public Tracing tracing() {
        return tracing;
    }

    /**
     * Whether the service should receive traffic: registered, lease renewed on time, not stopping.
     *
     * @return true when ready
     */
    public boolean ready() {
        return readiness.ready();
    }

    /**
     * Stops gracefully: not ready, deregistered, in-flight calls drained, stopped. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (stopped) {
            return;
        }
        stopped = true;
        readiness.stopping();
        grpcHealth.enterTerminalState();
        if (registration != null) {
            registration.close();
        }
        if (server != null) {
            server.stop();
        }
        registry.close();
        tls.ifPresent(WorkloadTls::close);
        tracing.close();
        LOG.log(Level.INFO, service + " stopped");
    }

    private void register(Config config, ApiSchema schema) {
        String host = config.get("advertise-host").asString().orElse("127.0.0.1");
        int ttl = config.get("ttl").asInt().orElse((int) RegistryClient.DEFAULT_TTL.toSeconds());
        int port = server.port();
        Instance.Builder instance = Instance.newBuilder()
                .setService(service)
                .setId(config.get("instance-id").asString().orElse(service + "-" + host + "-" + port))
                .setHost(host)
                .setPort(port)
                .setVersion(config.get("version").asString().orElse("0.1.0"))
                .setZone(config.get("zone").asString().orElse(""))
                .setWeight(config.get("weight").asInt().orElse(100));
        registration = registry.register(instance.build(), schema, Duration.ofSeconds(ttl));
        readiness.follow(registration);
        grpcHealth.setStatus("", ServingStatus.SERVING);
        LOG.log(Level.INFO, service + " listening on port " + port + ", registering as " + instance.getId()
                            + " at " + host + ":" + port + " with ttl " + ttl + " s");
    }
}
