package io.switchboard.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.switchboard.identity.LocalCa;
import io.switchboard.identity.WorkloadTls;
import io.switchboard.testkit.FreePorts;
import io.switchboard.testkit.JavaProcess;
import io.switchboard.testkit.TlsChannels;

/**
 * The built components as processes, configured through environment variables as an operator would, with mutual
 * TLS as users run them: every component issues its certificate from one local CA of this test run
 * ({@code tls.local-ca}), and test clients call as a service of that CA. The gateway's HTTP edge is plain HTTP. Each
 * component gets a free management port ({@code SERVER_MANAGEMENT_PORT}), where it serves its observe endpoints (and
 * the hub its dashboard) over TLS; {@link #url} sends those paths there.
 */
final class Components {
    static final int TTL = 2;
    /** The local CA of every component and test client of this test run. */
    static final Path CA = temporaryDirectory("it-ca-");
    private static final LocalCa AUTHORITY = open(CA);
    /** Trusts the CA and shows no certificate, as Prometheus and probes do. */
    static final HttpClient HTTP = HttpClient.newBuilder().sslContext(AUTHORITY.trustingContext())
            .connectTimeout(Duration.ofSeconds(2)).build();
    private static final Map<String, WorkloadTls> IDENTITIES = new ConcurrentHashMap<>();
    private static final Set<Integer> PLAIN_HTTP = ConcurrentHashMap.newKeySet();
    /* a component's management port, by its main port */
    private static final Map<Integer, Integer> MANAGEMENT = new ConcurrentHashMap<>();

    private Components() {
    }

    /** The component's runnable jar; fails when it is missing or older than its module's classes. */
    static Path jar(String component) {
        return BuiltJars.fresh(Path.of(".."), component);
    }

    static JavaProcess hub(String etcdEndpoint, int port) {
        return hub(etcdEndpoint, port, Map.of());
    }

    /** A hub with extra environment. */
    static JavaProcess hub(String etcdEndpoint, int port, Map<String, String> extra) {
        Map<String, String> env = new java.util.HashMap<>(Map.of("ETCD_ENDPOINTS", etcdEndpoint,
                                                                 "SERVER_PORT", String.valueOf(port),
                                                                 "SERVER_MANAGEMENT_PORT", managementPort(port),
                                                                 "TLS_LOCAL_CA", CA.toString()));
        env.putAll(extra);
        return JavaProcess.jar(jar("hub"), env);
    }

    /** A business service (user or post) with a short lease TTL and its own data directory. */
    static JavaProcess service(String name, int hubPort, int port, Path data) {
        return service(name, hubPort, port, data, Map.of());
    }

    /** A business service with extra environment (a shared database, a signing key). */
    static JavaProcess service(String name, int hubPort, int port, Path data, Map<String, String> extra) {
        Map<String, String> env = new java.util.HashMap<>(Map.of("HUB_ENDPOINTS", "127.0.0.1:" + hubPort,
                                                                 "SERVER_PORT", String.valueOf(port),
                                                                 "REGISTRY_TTL", String.valueOf(TTL),
                                                                 "DATA_DIR", data.toString(),
                                                                 "SERVER_MANAGEMENT_PORT", managementPort(port),
                                                                 "TLS_LOCAL_CA", CA.toString()));
        env.putAll(extra);
        return JavaProcess.jar(jar(name), env);
    }

    /** The gateway, with extra environment. */
    static JavaProcess gateway(int hubPort, int port, Map<String, String> extra) {
        Map<String, String> env = new java.util.HashMap<>(Map.of("HUB_ENDPOINTS", "127.0.0.1:" + hubPort,
                                                                 "SERVER_PORT", String.valueOf(port),
                                                                 "SERVER_MANAGEMENT_PORT", managementPort(port),
                                                                 "TLS_LOCAL_CA", CA.toString()));
        env.putAll(extra);
        plainHttp(port);
        return JavaProcess.jar(jar("gateway"), env);
    }

    /** Marks a port as a gateway's edge, served over plain HTTP (for {@link #url}). */
    static void plainHttp(int port) {
        PLAIN_HTTP.add(port);
    }

    /**
     * A free port for the management socket of the component on {@code port}, kept for {@link #url}: the same one
     * each time it is asked for that port (a restarted component keeps its ports).
     */
    static String managementPort(int port) {
        return String.valueOf(MANAGEMENT.computeIfAbsent(port, ignored -> FreePorts.next()));
    }

    /**
     * A component's URL on loopback: its management port (https, trusting the CA) for the observe endpoints and the
     * dashboard; else http for a gateway's edge, https for the others.
     */
    static URI url(int port, String path) {
        if ((path.startsWith("/observe/") || path.equals("/ui") || path.startsWith("/ui/")) && MANAGEMENT.containsKey(port)) {
            return URI.create("https://127.0.0.1:" + MANAGEMENT.get(port) + path);
        }
        return URI.create((PLAIN_HTTP.contains(port) ? "http" : "https") + "://127.0.0.1:" + port + path);
    }

    static int status(int port, String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(url(port, path))
                                     .timeout(Duration.ofSeconds(2)).build(),
                             HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    static boolean ready(int port) {
        return status(port, "/observe/health/ready") == 200;
    }

    /** A gRPC channel to a component, over mutual TLS as {@code caller}, reaching only a server that proves to be
     * {@code service}. */
    static ManagedChannel channel(String caller, String service, int port) {
        return TlsChannels.to(IDENTITIES.computeIfAbsent(caller, Components::identity), service, "127.0.0.1", port);
    }

    private static WorkloadTls identity(String service) {
        try {
            return WorkloadTls.load(AUTHORITY.ensure(service), Duration.ofHours(1));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot issue a test identity for " + service, e);
        }
    }

    private static Path temporaryDirectory(String prefix) {
        try {
            return Files.createTempDirectory(prefix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static LocalCa open(Path directory) {
        try {
            return LocalCa.openOrCreate(directory, LocalCa.DEFAULT_TRUST_DOMAIN);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the test run's CA", e);
        }
    }

    static io.grpc.ClientInterceptor bearer(String token) {
        Metadata metadata = new Metadata();
        metadata.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        return MetadataUtils.newAttachHeadersInterceptor(metadata);
    }
}
