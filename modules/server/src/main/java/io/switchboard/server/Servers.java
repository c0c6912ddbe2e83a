package io.switchboard.server;

import io.helidon.common.socket.SocketOptions;
import io.helidon.config.Config;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.grpc.GrpcConfig;
import io.helidon.webserver.observe.ObserveFeature;
import io.helidon.webserver.observe.health.HealthObserver;
import io.helidon.webserver.observe.metrics.MetricsObserver;

/**
 * The Helidon server every component runs: hub, services and gateway set it up the same way and add their routing.
 */
public final class Servers {
    private Servers() {
    }

    /**
     * A server builder with the settings every component needs:
     * <ul>
     *     <li>{@code TCP_NODELAY} on accepted connections: Helidon leaves Nagle's algorithm on, and a small answer
     *     would wait for the peer's delayed ACK (40 ms);</li>
     *     <li>gRPC answers uncompressed: Helidon gzips every answer when the client accepts gzip, and grpc-java
     *     always does, so the CPU is spent twice (deflate here, inflate in the caller) to save bytes on a cluster
     *     network. {@code server.protocols.grpc.enable-compression: true} turns it back on;</li>
     *     <li>no shutdown hook: the process stops on a signal through {@link GracefulStop};</li>
     *     <li>the observe endpoints: {@code /observe/health} with details and the given readiness check, and
     *     {@code /observe/metrics}.</li>
     * </ul>
     *
     * @param config    the {@code server} configuration node
     * @param readiness the component's readiness check, named by what it follows (etcd, a lease, discovery)
     * @return a builder to add routing and features to
     */
    public static WebServerConfig.Builder builder(Config config, ReadinessCheck readiness) {
        return WebServer.builder()
                .connectionOptions(SocketOptions.builder().tcpNoDelay(true).build())
                .config(config)
                .addProtocol(GrpcConfig.builder().enableCompression(false).config(config.get("protocols.grpc")).build())
                .shutdownHook(false)
                .addFeature(ObserveFeature.builder()
                                    .addObserver(HealthObserver.builder()
                                                         .details(true)
                                                         .addCheck(readiness)
                                                         .build())
                                    .addObserver(MetricsObserver.create())
                                    .build());
    }
}
