package io.switchboard.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A real Prometheus server (Debian's {@code prometheus}) on a free loopback port with a temporary data directory,
 * scraping what a given configuration says, and its HTTP API. When the binary is missing or the server does not
 * start, {@link #start(String)} throws with a message that says what to install. Not thread safe.
 */
public final class PrometheusServer implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final Path dir;
    private final int port;
    private final Process process;

    private PrometheusServer(Path dir, int port, Process process) {
        this.dir = dir;
        this.port = port;
        this.process = process;
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
            Process process = new ProcessBuilder(binary.toString(),
                                                 "--config.file=" + dir.resolve("prometheus.yml"),
                                                 "--storage.tsdb.path=" + dir.resolve("data"),
                                                 "--web.listen-address=127.0.0.1:" + port)
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("prometheus.log").toFile())
                    .start();
            PrometheusServer server = new PrometheusServer(dir, port, process);
            server.awaitReady();
            return server;
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
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                                     .timeout(Duration.ofSeconds(5)).build(),
                             HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            throw new UncheckedIOException("Prometheus API " + path + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
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
        return ServerFiles.tail(dir.resolve("prometheus.log"));
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        ServerFiles.delete(dir);
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("prometheus exited at start:\n" + logTail());
            }
            try {
                HttpResponse<Void> ready = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                                                                                       + "/-/ready"))
                                                             .timeout(Duration.ofSeconds(1)).build(),
                                                     HttpResponse.BodyHandlers.discarding());
                if (ready.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for prometheus", e);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
        String tail = logTail();
        close();
        throw new IllegalStateException("prometheus not ready after " + START_TIMEOUT.toSeconds() + " s:\n" + tail);
    }
}
