package io.switchboard.it;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.switchboard.testkit.JavaProcess;

/**
 * The built components as processes, configured through environment variables as an operator would.
 */
final class Components {
    static final int TTL = 2;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private Components() {
    }

    /** The component's runnable jar; fails when it is missing or older than its module's classes. */
    static Path jar(String component) {
        return BuiltJars.fresh(Path.of(".."), component);
    }

    static JavaProcess hub(String etcdEndpoint, int port) {
        return JavaProcess.jar(jar("hub"), Map.of("ETCD_ENDPOINTS", etcdEndpoint, "SERVER_PORT", String.valueOf(port)));
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
                                                                 "DATA_DIR", data.toString()));
        env.putAll(extra);
        return JavaProcess.jar(jar(name), env);
    }

    /** The gateway, with extra environment. */
    static JavaProcess gateway(int hubPort, int port, Map<String, String> extra) {
        Map<String, String> env = new java.util.HashMap<>(Map.of("HUB_ENDPOINTS", "127.0.0.1:" + hubPort,
                                                                 "SERVER_PORT", String.valueOf(port)));
        env.putAll(extra);
        return JavaProcess.jar(jar("gateway"), env);
    }

    static int status(int port, String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                                     .timeout(Duration.ofSeconds(2)).build(),
                             HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    static boolean ready(int port) {
        return status(port, "/observe/health/ready") == 200;
    }

    static io.grpc.ClientInterceptor bearer(String token) {
        Metadata metadata = new Metadata();
        metadata.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        return MetadataUtils.newAttachHeadersInterceptor(metadata);
    }
}
