package io.switchboard.gateway;

import java.lang.System.Logger.Level;
import java.util.Optional;
import java.util.Set;

import io.helidon.config.Config;
import io.helidon.metrics.api.Metrics;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.switchboard.gateway.docs.DocsPage;
import io.switchboard.gateway.edge.Edge;
import io.switchboard.gateway.edge.GatewayHandler;
import io.switchboard.gateway.routes.RouteTable;
import io.switchboard.gateway.upstream.Upstreams;
import io.switchboard.identity.WorkloadTls;
import io.switchboard.registry.Balancing;
import io.switchboard.registry.CallPolicy;
import io.switchboard.registry.client.RegistryClient;
import io.switchboard.server.ComponentTls;
import io.switchboard.server.Servers;
import io.switchboard.server.Tracing;
import io.switchboard.tokens.UserKeys;

/**
 * A running gateway: the HTTP API routed to the services' gRPC methods over live discovery, and the observe
 * endpoints, on one port. It has no list of services: its routes are those the registered instances publish
 * ({@link LiveRoutes}). Starts and is live with no hub, no etcd and no services; ready once the hub has answered
 * with every instance and their routes are read.
 */
public final class GatewayServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(GatewayServer.class.getName());

    private final WebServer server;
    private final GatewayHandler handler;
    private final LiveRoutes routes;
    private final Upstreams upstreams;
    private final UserKeys keys;
    private final RegistryClient registry;
    private final Optional<WorkloadTls> tls;
    private final Tracing tracing;

    private GatewayServer(WebServer server, GatewayHandler handler, LiveRoutes routes, Upstreams upstreams, UserKeys keys,
                          RegistryClient registry, Optional<WorkloadTls> tls, Tracing tracing) {
        this.server = server;
        this.handler = handler;
        this.routes = routes;
        this.upstreams = upstreams;
        this.keys = keys;
        this.registry = registry;
        this.tls = tls;
        this.tracing = tracing;
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
        try {
            return start(config, tls, registry);
        } catch (RuntimeException e) {
            // a setting refused, or the port taken: what was opened for it goes (in tests, the JVM lives on)
            registry.close();
            throw e;
        }
    }

    private static GatewayServer start(Config config, Optional<WorkloadTls> tls, RegistryClient registry) {
        // least-outstanding by default: a slow instance gets fewer calls, and a hedge never goes to the frozen instance
        // that holds the call's first attempt
        Balancing balancing = "round-robin".equals(config.get("gateway.balancing").asString().orElse("least-outstanding"))
                ? Balancing.ROUND_ROBIN : Balancing.LEAST_OUTSTANDING;
        CallPolicy policy = CallPolicy.from(config.get("gateway.upstream"));
        Upstreams upstreams = new Upstreams(registry.discovery(), balancing, policy,
                                            config.get("gateway.streams.window").asInt().orElse(1024 * 1024));
        LiveRoutes routes = LiveRoutes.follow(registry.discovery(), upstreams, Metrics.globalRegistry());
        UserKeys keys = UserKeys.open(registry.discovery(), config);
        HttpRouting.Builder routing = HttpRouting.builder();
        boolean openApi = config.get("gateway.openapi.enabled").asBoolean().orElse(true);
        boolean docs = openApi && config.get("gateway.docs.enabled").asBoolean().orElse(true);
        if (openApi) {
            // before the API's routes: a service cannot take these paths
            routing.get("/openapi.json", Edge.apiDocument(routes, docs));
        }
        if (docs) {
            routing.register("/docs", DocsPage.create());
        }
        Tracing tracing = Tracing.fromEnvironment("gateway");
        GatewayHandler handler = Edge.handler(config.get("gateway"), routes, upstreams, keys.verifier(), tracing);
        routing.any(handler);
        // the public port serves the API only; health and metrics are on the management port, over the identity's TLS
        WebServer server = Servers.edgeBuilder(config.get("server"), new DiscoveryReadiness(routes), tls.orElse(null))
                .directHandlers(Edge.transportErrors())
                .addRouting(routing)
                .build();
        Servers.start(server, config.get("server"));
        LOG.log(Level.INFO, "gateway listening on port " + server.port() + " (management port "
                            + server.port(Servers.MANAGEMENT) + "), routes learned from the registry, "
                            + balancing.policy() + " balancing, " + policy
                            + (openApi ? ", the API's OpenAPI document at /openapi.json" : "")
                            + (docs ? " and its documentation at /docs" : ""));
        return new GatewayServer(server, handler, routes, upstreams, keys, registry, tls, tracing);
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
     * The management port: the observe endpoints.
     *
     * @return port
     */
    public int managementPort() {
        return server.port(Servers.MANAGEMENT);
    }

    /**
     * The services the gateway has routes to now.
     *
     * @return backend names; empty until the routes are known
     */
    public Set<String> routedServices() {
        RouteTable table = routes.get();
        return table == null ? Set.of() : table.backends();
    }

    @Override
    public synchronized void close() {
        // streams first: each ends with an event telling its client to reconnect, then in-flight requests drain
        handler.close();
        server.stop();
        routes.close();
        upstreams.close();
        keys.close();
        registry.close();
        tls.ifPresent(WorkloadTls::close);
        tracing.close();
        LOG.log(Level.INFO, "gateway stopped");
    }
}
