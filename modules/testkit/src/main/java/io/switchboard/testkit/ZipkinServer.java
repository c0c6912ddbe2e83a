package io.switchboard.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A real Zipkin server (its exec jar from Maven Central, run as a plain Java process, spans kept in memory) on a free
 * loopback port, and its HTTP API. The jar is the one {@code modules/it} copies into {@code target/zipkin} (system
 * property {@code zipkin.jar}); when it is missing or the server does not start, {@link #start()} throws with a
 * message that says how to get it. Not thread safe.
 */
public final class ZipkinServer implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final HttpServerProcess server;

    private ZipkinServer(HttpServerProcess server) {
        this.server = server;
    }

    /**
     * Starts Zipkin and waits until it is healthy.
     *
     * @return the running server
     * @throws IllegalStateException when the jar is missing or the server does not start
     */
    public static ZipkinServer start() {
        Path jar = Path.of(System.getProperty("zipkin.jar", "target/zipkin/zipkin-server.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("No Zipkin server jar at " + jar.toAbsolutePath() + ". This test runs a "
                                            + "real Zipkin: ./mvnw -pl modules/it generate-test-resources copies "
                                            + "io.zipkin:zipkin-server:exec there (scripts/test.sh does)");
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        int port = FreePorts.next();
        try {
            Path dir = Files.createTempDirectory("switchboard-zipkin-");
            return new ZipkinServer(HttpServerProcess.start(
                    "zipkin", dir, port,
                    List.of(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", jar.toString(),
                            // loopback only: the test's spans are nobody else's
                            "--armeria.ports[0].port=" + port, "--armeria.ports[0].ip=127.0.0.1",
                            "--armeria.ports[0].protocols[0]=http"),
                    "/health", START_TIMEOUT));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start Zipkin", e);
        }
    }

    /**
     * Where spans are sent: {@code OTEL_EXPORTER_ZIPKIN_ENDPOINT}.
     *
     * @return the span collection URL
     */
    public String spansEndpoint() {
        return "http://127.0.0.1:" + server.port() + "/api/v2/spans";
    }

    /**
     * A GET on the v2 API.
     *
     * @param path API path, e.g. {@code /api/v2/trace/<id>}
     * @return the answer (404 for a trace not seen yet)
     */
    public HttpResponse<String> api(String path) {
        return server.get(path);
    }

    /**
     * The tail of Zipkin's own log, for failure messages.
     *
     * @return the last lines
     */
    public String logTail() {
        return server.logTail();
    }

    @Override
    public void close() {
        server.close();
    }
}
