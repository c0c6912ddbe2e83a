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

    static Path jar(String component) {
        return Path.of("..", component, "target", component + ".jar");
    }

    static JavaProcess hub(String etcdEndpoint, int port) {
        return JavaProcess.jar(jar("hub"), Map.of("ETCD_ENDPOINTS", etcdEndpoint, "SERVER_PORT", String.valueOf(port)));
    }

    /** A business service (user or post) with a short lease TTL and its own data directory. */
    static JavaProcess service(String name, int hubPort, int port, Path data) {
        return JavaProcess.jar(jar(name), Map.of("HUB_ENDPOINTS", "127.0.0.1:" + hubPort,
                                                 "SERVER_PORT", String.valueOf(port),
                                                 "REGISTRY_TTL", String.valueOf(TTL),
                                                 "DATA_DIR", data.toString()));
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
