package io.switchboard.hub;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Optional;

import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.helidon.config.Config;
import io.helidon.metrics.api.MeterRegistry;
import io.helidon.metrics.api.Metrics;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.grpc.GrpcReflectionFeature;
import io.helidon.webserver.grpc.GrpcRouting;
import io.switchboard.hub.etcd.EtcdProbe;
import io.switchboard.hub.etcd.EtcdStore;
import io.switchboard.hub.ui.UiService;
import io.switchboard.hub.view.InstanceView;
import io.switchboard.identity.WorkloadTls;
import io.switchboard.server.ComponentTls;
import io.switchboard.server.Servers;
import io.switchboard.server.Tracing;
import io.switchboard.server.grpc.CallerIdentity;

/**
 * A running hub: the gRPC API, {@code grpc.health.v1}, reflection, the observe endpoints and the registry
 * dashboard ({@code /ui}, unless {@code ui.enabled} is false) on one port.
 * <p>
 * Ready while etcd answers and the instance view is synced. {@link #close()} shuts down in order: not ready,
 * Watch and dashboard streams ended (clients move to another replica), in-flight calls drained, etcd client closed.
 */
public final class HubServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(HubServer.class.getName());

    private final WebServer server;
    private final EtcdStore store;
    private final EtcdProbe probe;
    private final InstanceView view;
    private final HubReadiness readiness;
    private final HealthStatusManager grpcHealth;
    private final Optional<UiService> ui;
    private final Optional<WorkloadTls> tls;
    private final Tracing tracing;
    private boolean stopped;

    private HubServer(WebServer server, EtcdStore store, EtcdProbe probe, InstanceView view, HubReadiness readiness,
                      HealthStatusManager grpcHealth, Optional<UiService> ui, Optional<WorkloadTls> tls,
                      Tracing tracing) {
        this.server = server;
        this.store = store;
        this.probe = probe;
        this.view = view;
        this.readiness = readiness;
        this.grpcHealth = grpcHealth;
        this.ui = ui;
        this.tls = tls;
        this.tracing = tracing;
    }

    /**
     * Starts a hub from configuration: {@code server.*} (port 8004 by default), {@code etcd.endpoints}
     * (comma-separated URLs), {@code ui.*}, {@code tls.*} (see {@link ComponentTls}: with it, the hub serves mutual
     * TLS and an instance registers only under the service its certificate names). Returns once the server
     * listens; etcd may come later.
     *
     * @param config root configuration
     * @return the running hub
     */
    public static HubServer start(Config config) {
        String endpoints = config.get("etcd.endpoints").asString().orElse("http://127.0.0.1:2379");
        int queue = config.get("hub.watch-queue").asInt().orElse(4096);
        int maxRegistrations = config.get("hub.max-concurrent-registrations").asInt().orElse(128);
        WatchLimits watches = new WatchLimits(config.get("hub.max-watches").asInt().orElse(4096),
                                              config.get("hub.max-watches-per-connection").asInt().orElse(256));
        RegistrationLimits limits = new RegistrationLimits(config.get("hub.max-instances").asInt().orElse(10_000),
                                                           config.get("hub.max-instances-per-service").asInt()
                                                                   .orElse(1_000));
        // the identity first: the hub shows it to etcd (https endpoints) as to its own callers
        Optional<WorkloadTls> tls = ComponentTls.from(config.get("tls"), "hub");
        EtcdStore store = EtcdStore.connect(endpoints, tls.orElse(null));
        MeterRegistry registry = Metrics.globalRegistry();
        HubMetrics metrics = new HubMetrics(registry);
        store.onError(metrics::etcdError);
        EtcdProbe probe = EtcdProbe.start(store, Duration.ofSeconds(1));
        InstanceView view = InstanceView.start(store, queue);
        HubMetrics.gauges(registry, view, probe);
        HealthStatusManager grpcHealth = new HealthStatusManager();
        Optional<UiService> ui = UiService.create(config.get("ui"), store, view, probe);

        HubReadiness readiness = new HubReadiness(probe, view);
        // registrations and renewals get server spans, continuing the registering instance's trace
        Tracing tracing = Tracing.fromEnvironment("hub");
        GrpcRouting.Builder grpc = GrpcRouting.builder();
        tracing.serverInterceptors().forEach(grpc::intercept);
        WebServerConfig.Builder builder = Servers.builder(config.get("server"), readiness, tls.orElse(null))
                .addFeature(GrpcReflectionFeature.builder().enabled(true).build())
                .addRouting(grpc.intercept(new CallerIdentity())
                                    .service(new HubService(store, view, metrics, maxRegistrations, tls.isPresent(), watches,
                                                            limits))
                                    .service(grpcHealth.getHealthService()));
        // the dashboard is for operators: on the management port, beside the observe endpoints, not the API's port
        ui.ifPresent(service -> builder.routing(Servers.MANAGEMENT, http -> http.register("/ui", service)));
        WebServer server = builder.build();
        HubServer hub = new HubServer(server, store, probe, view, readiness, grpcHealth, ui, tls, tracing);
        Servers.start(server, config.get("server"));
        grpcHealth.setStatus("", ServingStatus.SERVING);
        LOG.log(Level.INFO, "hub listening on port " + server.port() + " (management port "
                            + server.port(Servers.MANAGEMENT) + "), etcd " + endpoints
                            + (ui.isPresent() ? ", dashboard at /ui on the management port" : ", dashboard disabled"));
        return hub;
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
     * The management port: the observe endpoints and the dashboard.
     *
     * @return port
     */
    public int managementPort() {
        return server.port(Servers.MANAGEMENT);
    }

    /**
     * Whether the hub can serve: etcd answers and the view is synced.
     *
     * @return true when ready
     */
    public boolean ready() {
        return readiness.ready();
    }

    /**
     * Instances in this replica's view of etcd.
     *
     * @return instance count
     */
    public int instanceCount() {
        return view.size();
    }

    @Override
    public synchronized void close() {
        if (stopped) {
            return;
        }
        stopped = true;
        readiness.stopping();
        grpcHealth.enterTerminalState();
        ui.ifPresent(UiService::close);
        view.close();
        server.stop();
        probe.close();
        store.close();
        tls.ifPresent(WorkloadTls::close);
        tracing.close();
        LOG.log(Level.INFO, "hub stopped");
    }
}
