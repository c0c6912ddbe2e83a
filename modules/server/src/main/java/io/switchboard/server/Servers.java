package io.switchboard.server;

import java.io.UncheckedIOException;
import java.net.BindException;
import java.time.Duration;
import java.util.List;

import io.helidon.common.socket.SocketOptions;
import io.helidon.common.tls.Tls;
import io.helidon.common.tls.TlsClientAuth;
import io.helidon.config.Config;
import io.helidon.webserver.ListenerConfig;
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
    /**
     * The name of the management socket: the observe endpoints (and the hub's dashboard) on a port of their own,
     * {@code server.management-port}, so that the component's main port (the gateway's public one) serves only its
     * API.
     */
    public static final String MANAGEMENT = "management";

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
     *     <li>the observe endpoints, {@code /observe/health} with details and the given readiness check, and
     *     {@code /observe/metrics}, on the management port only ({@link #MANAGEMENT}).</li>
     * </ul>
     *
     * @param config    the {@code server} configuration node
     * @param readiness the component's readiness check, named by what it follows (etcd, a lease, discovery)
     * @return a builder to add routing and features to
     * @throws IllegalArgumentException when {@code server.management-port} is the same as the port
     */
    public static WebServerConfig.Builder builder(Config config, ReadinessCheck readiness) {
        return builder(config, readiness, null);
    }

    /**
     * The same builder, serving TLS with the component's identity when it has one, on both ports: TLS 1.2 or 1.3 on
     * the main port (gRPC, HTTP/1.1, and h2 over ALPN) and on the management port, asking for a client certificate
     * without requiring one, so that Prometheus and health probes connect with none; a client that does present one
     * must present one the trust bundle accepts. {@link io.switchboard.server.grpc.CallerIdentity} tells gRPC
     * services who called.
     *
     * @param config    the {@code server} configuration node
     * @param readiness the component's readiness check
     * @param tls       the component's TLS, or null for plaintext
     * @return a builder to add routing and features to
     * @throws IllegalArgumentException when {@code server.management-port} is the same as the port
     */
    public static WebServerConfig.Builder builder(Config config, ReadinessCheck readiness, WorkloadTls tls) {
        WebServerConfig.Builder builder = edgeBuilder(config, readiness, tls);
        if (tls != null) {
            builder.tls(tls(tls));
        }
        return builder;
    }

    /**
     * A builder as {@link #builder(Config, ReadinessCheck, WorkloadTls)} whose main port serves what its
     * configuration says ({@code server.tls}: the gateway's public edge), and whose management port serves TLS with
     * the component's identity when it has one.
     *
     * @param config        the {@code server} configuration node
     * @param readiness     the component's readiness check
     * @param managementTls the component's TLS, or null for plaintext
     * @return a builder to add routing and features to
     * @throws IllegalArgumentException when {@code server.management-port} is the same as the port
     */
    public static WebServerConfig.Builder edgeBuilder(Config config, ReadinessCheck readiness, WorkloadTls managementTls) {
        int port = config.get("port").asInt().orElse(0);
        // each component's application.yaml sets it; a configuration without one (a test's) gets a free port
        int managementPort = config.get("management-port").asInt().orElse(0);
        if (managementPort < 0 || managementPort > 65535 || managementPort != 0 && managementPort == port) {
            throw new IllegalArgumentException("server.management-port must be a port other than server.port ("
                                               + port + "), or 0 for any free one; got " + managementPort);
        }
        SocketOptions noDelay = SocketOptions.builder().tcpNoDelay(true).build();
        ListenerConfig.Builder management = ListenerConfig.builder()
                .host(config.get("host").asString().orElse("0.0.0.0"))
                .port(managementPort)
                .connectionOptions(noDelay)
                .shutdownGracePeriod(Duration.ofSeconds(1));
        if (managementTls != null) {
            management.tls(tls(managementTls));
        }
        return WebServer.builder()
                .connectionOptions(noDelay)
                .config(config)
                .addProtocol(GrpcConfig.builder().enableCompression(false).config(config.get("protocols.grpc")).build())
                .shutdownHook(false)
                .putSocket(MANAGEMENT, management.build())
                .addFeature(ObserveFeature.builder()
                                    .sockets(List.of(MANAGEMENT))
                                    .addObserver(HealthObserver.builder()
                                                         .details(true)
                                                         .addCheck(readiness)
                                                         .build())
                                    .addObserver(MetricsObserver.create())
                                    .build());
    }

    private static Tls tls(WorkloadTls tls) {
        return Tls.builder().sslContext(tls.sslContext()).clientAuth(TlsClientAuth.OPTIONAL).build();
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
            String message = "cannot listen on port " + config.get("port").asInt().orElse(0) + " or management port "
                             + config.get("management-port").asInt().orElse(0)
                             + " (taken, or not permitted: the web server's error above says which)";
            throw new UncheckedIOException(message, new BindException(message));
        }
    }
}
