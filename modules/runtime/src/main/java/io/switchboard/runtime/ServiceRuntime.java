package io.switchboard.runtime;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.function.BiConsumer;

import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.helidon.config.Config;
import io.helidon.health.HealthCheckResponse;
import io.helidon.metrics.api.Gauge;
import io.helidon.metrics.api.Metrics;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.grpc.GrpcReflectionFeature;
import io.helidon.webserver.grpc.GrpcRouting;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.registry.Discovery;
import io.switchboard.registry.Registration;
import io.switchboard.registry.RegistryClient;
import io.switchboard.server.Servers;

/**
 * A business service as it runs in production: its gRPC services, {@code grpc.health.v1}, reflection and the
 * observe endpoints on one port, registered through the hub once the server listens.
 * <p>
 * Readiness is the registration lease: {@code /observe/health/ready} is UP only while the lease is alive and
 * renewed on time. {@link #close()} stops in the order that moves traffic away first: not ready, deregistered,
 * in-flight calls drained ({@code server.shutdown-grace-period}), stopped. Thread safe.
 */
public final class ServiceRuntime implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ServiceRuntime.class.getName());

    private final String service;
    private final WebServer server;
    private final RegistryClient registry;
    private final HealthStatusManager grpcHealth;
    private volatile Registration registration;
    private volatile boolean stopping;

    private ServiceRuntime(String service, WebServer server, RegistryClient registry, HealthStatusManager grpcHealth) {
        this.service = service;
        this.server = server;
        this.registry = registry;
        this.grpcHealth = grpcHealth;
    }

    /**
     * Starts the server and registers the instance. Returns once the server listens; registration completes
     * in the background (the hub may come later).
     *
     * @param config   root configuration: {@code server.*}, {@code hub.endpoints}, {@code registry.*}
     * @param service  the service name to register under
     * @param services adds the service's gRPC services to the routing; discovery is there to call other services
     * @return the running service
     */
    public static ServiceRuntime start(Config config, String service,
                                       BiConsumer<GrpcRouting.Builder, Discovery> services) {
        RegistryClient registry = RegistryClient.create(config);
        HealthStatusManager grpcHealth = new HealthStatusManager();
        grpcHealth.setStatus("", ServingStatus.NOT_SERVING);
        ServiceRuntime[] self = new ServiceRuntime[1];
        GrpcRouting.Builder grpc = GrpcRouting.builder()
                .intercept(new RpcMetrics(Metrics.globalRegistry()), new RequestIds())
                .service(grpcHealth.getHealthService());
        services.accept(grpc, registry.discovery());
        WebServer server = Servers.builder(config.get("server"), "registration", () -> self[0].readiness())
                .addFeature(GrpcReflectionFeature.builder().enabled(true).build())
                .addRouting(grpc)
                .build();
        ServiceRuntime runtime = new ServiceRuntime(service, server, registry, grpcHealth);
        self[0] = runtime;
        Metrics.globalRegistry().getOrCreate(Gauge.builder("switchboard.registration.healthy", runtime,
                                                           r -> r.ready() ? 1 : 0)
                                                     .description("1 while the registration lease is alive and renewed"));
        server.start();
        runtime.register(config.get("registry"));
        return runtime;
    }

    /**
     * The port the server listens on.
     *
     * @return port
     */
    public int port() {
        return server.port();
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
     * Whether the service should receive traffic: registered, lease renewed on time, not stopping.
     *
     * @return true when ready
     */
    public boolean ready() {
        Registration current = registration;
        return !stopping && current != null && current.healthy();
    }

    /**
     * Stops gracefully: not ready, deregistered, in-flight calls drained, stopped. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (stopping) {
            return;
        }
        stopping = true;
        grpcHealth.enterTerminalState();
        if (registration != null) {
            registration.close();
        }
        server.stop();
        registry.close();
        LOG.log(Level.INFO, service + " stopped");
    }

    private void register(Config config) {
        String host = config.get("advertise-host").asString().orElse("127.0.0.1");
        int ttl = config.get("ttl").asInt().orElse((int) RegistryClient.DEFAULT_TTL.toSeconds());
        Instance.Builder instance = Instance.newBuilder()
                .setService(service)
                .setId(config.get("instance-id").asString().orElse(service + "-" + host + "-" + port()))
                .setHost(host)
                .setPort(port())
                .setVersion(config.get("version").asString().orElse("0.1.0"))
                .setZone(config.get("zone").asString().orElse(""))
                .setWeight(config.get("weight").asInt().orElse(100));
        registration = registry.register(instance.build(), Duration.ofSeconds(ttl));
        grpcHealth.setStatus("", ServingStatus.SERVING);
        LOG.log(Level.INFO, service + " listening on port " + port() + ", registering as " + instance.getId()
                            + " at " + host + ":" + port() + " with ttl " + ttl + " s");
    }

    private HealthCheckResponse readiness() {
        Registration current = registration;
        return HealthCheckResponse.builder()
                .status(ready())
                .detail("lease", current == null ? "none" : Long.toHexString(current.leaseId()))
                .detail("state", stopping ? "stopping" : current != null && current.healthy() ? "renewed" : "lost")
                .build();
    }
}
