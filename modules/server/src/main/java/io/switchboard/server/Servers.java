package io.switchboard.server;

import java.io.UncheckedIOException;
import java.net.BindException;

import io.helidon.common.socket.SocketOptions;
import io.helidon.common.tls.Tls;
import io.helidon.common.tls.TlsClientAuth;
import io.helidon.config.Config;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.grpc.GrpcConfig;
import io.helidon.webserver.observe.ObserveFeature;
import io.helidon.webserver.observe.health.HealthObserver;
import io.helidon.webserver.observe.metrics.MetricsObserver;
import io.switchboard.identity.WorkloadTls;

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
        return builder(config, readiness, null);
    }

    /**
     * The same builder, serving TLS with the component's identity when it has one: TLS 1.2 or 1.3 on the one port
     * (gRPC, HTTP/1.1, and h2 over ALPN), asking for a client certificate without requiring one, so that Prometheus
     * and health probes connect with none; a client that does present one must present one the trust bundle
     * accepts. {@link io.switchboard.server.grpc.CallerIdentity} tells gRPC services who called.
     *
     * @param config    the {@code server} configuration node
     * @param readiness the component's readiness check
     * @param tls       the component's TLS, or null for plaintext
     * @return a builder to add routing and features to
     */
    public static WebServerConfig.Builder builder(Config config, ReadinessCheck readiness, WorkloadTls tls) {
        WebServerConfig.Builder builder = WebServer.builder()
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
        if (tls != null) {
            builder.tls(Tls.builder().sslContext(tls.sslContext()).clientAuth(TlsClientAuth.OPTIONAL).build());
        }
        return builder;
    }

    /**
     * Starts a server built from {@link #builder}. Helidon logs a listener that cannot start (its port taken, a
     * privileged port) and returns as if it had started, and a process with nothing running would then exit 0; this
     * throws instead, so that the component stops with a reason ({@link Launcher}).
     *
     * @param server the server
     * @param config the {@code server} configuration node, for the port it was to listen on
     * @throws UncheckedIOException when it does not run after starting
     */
    public static void start(WebServer server, Config config) {
        server.start();
        if (!server.isRunning()) {
            String message = "cannot listen on port " + config.get("port").asInt().orElse(0)
                             + " (taken, or not permitted: the web server's error above says which)";
            throw new UncheckedIOException(message, new BindException(message));
        }
    }
}
