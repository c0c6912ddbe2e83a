package io.switchboard.gateway.edge;

import java.util.function.Supplier;

import io.helidon.config.Config;
import io.helidon.metrics.api.Metrics;
import io.helidon.webserver.http.DirectHandlers;
import io.switchboard.gateway.routes.RouteTable;
import io.switchboard.gateway.transcode.Transcoder;
import io.switchboard.gateway.upstream.Upstreams;
import io.switchboard.server.Tracing;
import io.switchboard.tokens.TokenVerifier;

/**
 * Builds the edge handler from configuration ({@code gateway.*}).
 */
public final class Edge {
    private Edge() {
    }

    /**
     * Answers for requests that never reach routing, as JSON errors.
     *
     * @return direct handlers for the server's listener
     */
    public static DirectHandlers transportErrors() {
        return TransportErrors.handlers();
    }

    /**
     * The handler of {@code GET /openapi.json}: the OpenAPI document of the routes served now.
     *
     * @param routes the current route table, null until it is known
     * @param docs   whether the gateway serves {@code /docs} too (a service's routes there are not reached)
     * @return the handler
     */
    public static ApiDocument apiDocument(Supplier<RouteTable> routes, boolean docs) {
        return new ApiDocument(routes, docs);
    }

    /**
     * The handler for every API request.
     *
     * @param config    the {@code gateway} node
     * @param routes    the current route table, null until it is known
     * @param upstreams backends
     * @param verifier  token verifier
     * @param tracing   the gateway's tracing: a server span per request, a client span per upstream attempt
     * @return the handler
     */
    public static GatewayHandler handler(Config config, Supplier<RouteTable> routes, Upstreams upstreams,
                                         TokenVerifier verifier, Tracing tracing) {
        ClientRateLimiter limiter = new ClientRateLimiter(config.get("login-limit.capacity").asInt().orElse(10),
                                                          config.get("login-limit.per-second").asDouble().orElse(1.0));
        Admission admission = new Admission(config.get("limits.in-flight").asInt().orElse(1000),
                                            config.get("limits.rate-limited-in-flight").asInt().orElse(32));
        GatewayMetrics metrics = new GatewayMetrics(Metrics.globalRegistry());
        ClientAddresses clients = ClientAddresses.trusting(config.get("trusted-proxies").asString().orElse(""),
                                                           config.get("forwarded-header").asString()
                                                                   .orElse("X-Forwarded-For"));
        EventStreams streams = EventStreams.from(config.get("streams"), new Transcoder(), Metrics.globalRegistry());
        return new GatewayHandler(routes, upstreams, verifier, limiter, clients, admission, metrics, tracing,
                                  Cors.from(config.get("cors")), streams,
                                  config.get("body-limit").asInt().orElse(1024 * 1024));
    }
}
