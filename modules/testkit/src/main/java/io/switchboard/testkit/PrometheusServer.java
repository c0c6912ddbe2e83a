package io.switchboard.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A real Prometheus server (Debian's {@code prometheus}) on a free loopback port with a temporary data directory,
 * scraping what a given configuration says, and its HTTP API. When the binary is missing or the server does not
 * start, {@link #start(String)} throws with a message that says what to install. Not thread safe.
 */
public final class PrometheusServer implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final HttpServerProcess server;

    private PrometheusServer(HttpServerProcess server) {
        this.server = server;
    }

    /**
     * Starts Prometheus with a configuration and waits until it is ready.
     *
     * @param configYaml the prometheus.yml text
     * @return the running server
     * @throws IllegalStateException when there is no prometheus binary or it does not start
     */
    public static PrometheusServer start(String configYaml) {
        Path binary = binary("prometheus");
        try {
            Path dir = Files.createTempDirectory("switchboard-prometheus-");
            Files.writeString(dir.resolve("prometheus.yml"), configYaml);
            int port = FreePorts.next();
            return new PrometheusServer(HttpServerProcess.start(
                    "prometheus", dir, port,
                    List.of(binary.toString(), "--config.file=" + dir.resolve("prometheus.yml"),
                            "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port),
                    "/-/ready", START_TIMEOUT));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + binary, e);
        }
    }

    /**
     * Path of a Prometheus tool ({@code prometheus}, {@code promtool}).
     *
     * @param name tool name
     * @return its path
     * @throws IllegalStateException when it is not installed
     */
    public static Path binary(String name) {
        for (String dir : (System.getenv().getOrDefault("PATH", "") + ":/usr/bin:/usr/local/bin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
                return Path.of(dir, name);
            }
        }
        throw new IllegalStateException("No " + name + " found on PATH. This test runs a real Prometheus: install "
                                        + "Debian's prometheus (apt-get install -y prometheus), or run scripts/test.sh "
                                        + "which installs it");
    }

    /**
     * A GET on the HTTP API.
     *
     * @param path API path, e.g. {@code /api/v1/targets}
     * @return the JSON body
     */
    public String api(String path) {
        return server.get(path).body();
    }

    /**
     * An instant PromQL query.
     *
     * @param promql the query
     * @return the JSON body of {@code /api/v1/query}
     */
    public String query(String promql) {
        return api("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    }

    /**
     * The tail of Prometheus' own log, for failure messages.
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
