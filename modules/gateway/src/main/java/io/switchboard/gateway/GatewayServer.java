package io.switchboard.gateway;

import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Optional;

import io.grpc.ServiceDescriptor;
import io.helidon.config.Config;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.switchboard.api.post.v1.PostServiceGrpc;
import io.switchboard.api.user.v1.UserServiceGrpc;
import io.switchboard.gateway.edge.Edge;
import io.switchboard.gateway.routes.RouteTable;
import io.switchboard.gateway.upstream.Upstreams;
import io.switchboard.identity.WorkloadTls;
import io.switchboard.registry.Balancing;
import io.switchboard.registry.CallPolicy;
import io.switchboard.registry.RegistryClient;
import io.switchboard.server.ComponentTls;
import io.switchboard.server.Servers;
import io.switchboard.tokens.UserKeys;

/**
 * A running gateway: the HTTP API routed to the services' gRPC methods over live discovery, and the observe
 * endpoints, on one port. Starts and is live with no hub, no etcd and no services; ready once the hub has answered
 * with every backend's instances.
 */
public final class GatewayServer implements AutoCloseable {
    /** The gRPC services whose google.api.http rules become routes. */
    static final List<ServiceDescriptor> SERVICES = List.of(UserServiceGrpc.getServiceDescriptor(),
                                                             PostServiceGrpc.getServiceDescriptor());

    private static final System.Logger LOG = System.getLogger(GatewayServer.class.getName());

    private final WebServer server;
    private final Upstreams upstreams;
    private final UserKeys keys;
    private final RegistryClient registry;
    private final Optional<WorkloadTls> tls;

    private GatewayServer(WebServer server, Upstreams upstreams, UserKeys keys, RegistryClient registry,
                          Optional<WorkloadTls> tls) {
        this.server = server;
        this.upstreams = upstreams;
        this.keys = keys;
        this.registry = registry;
        this.tls = tls;
    }

    /**
     * Starts the gateway from configuration (see {@code application.yaml}). Its identity ({@code tls.*}, see
     * {@link ComponentTls}) is what it shows the hub and the services it calls; a service's instance is called only
     * when its certificate names that service, so a record that names another address cannot divert traffic (nor
     * make it trust another's token keys). The HTTP edge itself is plain HTTP.
     *
     * @param config root configuration
     * @return the running gateway
     */
    public static GatewayServer start(Config config) {
        Optional<WorkloadTls> tls = ComponentTls.from(config.get("tls"), "gateway");
        RegistryClient registry = RegistryClient.create(config, tls.orElse(null));
        RouteTable routes = RouteTable.of(SERVICES);
        // least-outstanding by default: a slow instance gets fewer calls, and a hedge never goes to the frozen instance
        // that holds the call's first attempt
        Balancing balancing = "round-robin".equals(config.get("gateway.balancing").asString().orElse("least-outstanding"))
                ? Balancing.ROUND_ROBIN : Balancing.LEAST_OUTSTANDING;
        CallPolicy policy = CallPolicy.from(config.get("gateway.upstream"));
        Upstreams upstreams = new Upstreams(registry.discovery(), routes, balancing, policy);
        UserKeys keys = UserKeys.open(registry.discovery());
        WebServer server = Servers.builder(config.get("server"), new DiscoveryReadiness(upstreams))
                .directHandlers(Edge.transportErrors())
                .addRouting(HttpRouting.builder().any(Edge.handler(config.get("gateway"), routes, upstreams, keys.verifier())))
                .build();
        server.start();
        routes.routes().forEach(r -> LOG.log(Level.DEBUG, "route " + r.httpMethod() + " " + r.template() + " -> "
                                                          + r.method().getFullMethodName()));
        LOG.log(Level.INFO, "gateway listening on port " + server.port() + " with " + routes.routes().size() + " routes, "
                            + balancing.policy() + " balancing, " + policy);
        return new GatewayServer(server, upstreams, keys, registry, tls);
    }

    /**
     * The port the server listens on.
     *
     * @return port
     */
    public int port() {
        return server.port();
    }

    @Override
    public synchronized void close() {
        server.stop();
        upstreams.close();
        keys.close();
        registry.close();
        tls.ifPresent(WorkloadTls::close);
        LOG.log(Level.INFO, "gateway stopped");
    }
}
