package io.switchboard.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.switchboard.identity.IdentityFiles;

/**
 * A real etcd server (Debian's {@code etcd-server}) on free loopback ports with a temporary data directory.
 * <p>
 * It can be killed with SIGKILL and started again on the same ports and data, as an operator's etcd would be.
 * When the binary is missing or the server does not become healthy, {@link #start()} throws with a message that
 * says what to do: a test that needs etcd fails, it never skips. Not thread safe: one test drives it.
 */
public final class EtcdServer implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(20);

    private final Path binary;
    private final Path dir;
    private final int clientPort;
    private final int peerPort;
    private final IdentityFiles tls;
    private final int metricsPort;
    private Process process;

    private EtcdServer(Path binary, Path dir, int clientPort, int peerPort, IdentityFiles tls) {
        this.binary = binary;
        this.dir = dir;
        this.clientPort = clientPort;
        this.peerPort = peerPort;
        this.tls = tls;
        this.metricsPort = tls == null ? 0 : FreePorts.next();
    }

    /**
     * Starts a single-member etcd and waits until it reports healthy.
     *
     * @return the running server
     * @throws IllegalStateException when there is no etcd binary or it does not start
     */
    public static EtcdServer start() {
        EtcdServer server = reserve();
        server.launch();
        return server;
    }

    /**
     * Starts a single-member etcd that serves clients over TLS and requires a client certificate its trust bundle
     * signed ({@code --client-cert-auth}), as a locked-down etcd does; its health is read from a plaintext metrics
     * port.
     *
     * @param identity etcd's certificate, key and the CA bundle it trusts for clients
     * @return the running server
     * @throws IllegalStateException when there is no etcd binary or it does not start
     */
    public static EtcdServer startWithTls(IdentityFiles identity) {
        try {
            EtcdServer server = new EtcdServer(findBinary(), Files.createTempDirectory("switchboard-etcd-"),
                                               FreePorts.next(), FreePorts.next(), identity);
            server.launch();
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a data directory for etcd", e);
        }
    }

    /**
     * An etcd that is not running yet: its ports and data directory are chosen, so that components can be pointed
     * at it before it exists. {@link #restart()} starts it.
     *
     * @return the server, not running
     * @throws IllegalStateException when there is no etcd binary
     */
    public static EtcdServer reserve() {
        return reserve(FreePorts.next(), FreePorts.next());
    }

    /**
     * An etcd that is not running yet, on the given ports (for a benchmark whose ports are fixed).
     *
     * @param clientPort client port
     * @param peerPort   peer port
     * @return the server, not running
     * @throws IllegalStateException when there is no etcd binary
     */
    public static EtcdServer reserve(int clientPort, int peerPort) {
        Path binary = findBinary();
        try {
            return new EtcdServer(binary, Files.createTempDirectory("switchboard-etcd-"), clientPort, peerPort, null);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a data directory for etcd", e);
        }
    }

    /**
     * The client URL, for {@code etcd.endpoints} or jetcd.
     *
     * @return {@code http://127.0.0.1:<port>}, or {@code https://} with TLS
     */
    public String endpoint() {
        return (tls == null ? "http" : "https") + "://127.0.0.1:" + clientPort;
    }

    /**
     * Number of leases etcd holds, read through etcd's own HTTP gateway (jetcd cannot list leases). Lets a test
     * prove that a rejected request granted nothing.
     *
     * @return lease count
     */
    public int leaseCount() {
        if (tls != null) {
            throw new IllegalStateException("leaseCount reads etcd's HTTP gateway, which needs a client certificate here");
        }
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create(endpoint() + "/v3/lease/leases"))
                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                .timeout(Duration.ofSeconds(5))
                .build();
        try {
            String body = http.send(request, HttpResponse.BodyHandlers.ofString()).body();
            return body.split("\"ID\"", -1).length - 1;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list etcd leases", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /**
     * The running etcd's process id, to read its CPU time and memory.
     *
     * @return pid, or -1 when not running
     */
    public long pid() {
        return process == null ? -1 : process.pid();
    }

    /**
     * Kills etcd with SIGKILL and waits for it to be gone. The data directory stays.
     */
    public void kill() {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("etcd did not die after SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while killing etcd", e);
        }
        process = null;
    }

    /**
     * Kills etcd if it runs, starts it (again) on the same ports and data directory and waits until it is healthy.
     */
    public void restart() {
        kill();
        launch();
    }

    /**
     * The tail of etcd's own log, for failure messages.
     *
     * @return the last lines of the log
     */
    public String logTail() {
        return ServerFiles.tail(dir.resolve("etcd.log"));
    }

    @Override
    public void close() {
        kill();
        ServerFiles.delete(dir);
    }

    private void launch() {
        String peerUrl = "http://127.0.0.1:" + peerPort;
        ProcessBuilder builder = new ProcessBuilder(
                binary.toString(),
                "--name", "test",
                "--data-dir", dir.resolve("data").toString(),
                "--listen-client-urls", endpoint(),
                "--advertise-client-urls", endpoint(),
                "--listen-peer-urls", peerUrl,
                "--initial-advertise-peer-urls", peerUrl,
                "--initial-cluster", "test=" + peerUrl,
                "--initial-cluster-state", "new")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("etcd.log").toFile()));
        if (tls != null) {
            builder.command().addAll(List.of("--cert-file", tls.certificate().toString(),
                                             "--key-file", tls.privateKey().toString(),
                                             "--trusted-ca-file", tls.trustBundle().toString(),
                                             "--client-cert-auth",
                                             "--listen-metrics-urls", "http://127.0.0.1:" + metricsPort));
        }
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + binary + ": " + e.getMessage(), e);
        }
        awaitHealthy();
    }

    private void awaitHealthy() {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
        String health = tls == null ? endpoint() : "http://127.0.0.1:" + metricsPort;
        HttpRequest request = HttpRequest.newBuilder(URI.create(health + "/health"))
                .timeout(Duration.ofSeconds(1))
                .build();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("etcd exited with " + process.exitValue() + " at start:\n" + logTail());
            }
            try {
                HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200 && response.body().contains("\"true\"")) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for etcd", e);
            }
            sleep(50);
        }
        throw new IllegalStateException("etcd not healthy after " + START_TIMEOUT.toSeconds() + " s:\n" + logTail());
    }

    private static Path findBinary() {
        String configured = System.getenv("ETCD_BIN");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : (path + ":/usr/bin:/usr/local/bin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "etcd"))) {
                return Path.of(dir, "etcd");
            }
        }
        throw new IllegalStateException("No etcd binary found on PATH. Tests run a real etcd: install Debian's "
                                        + "etcd-server (apt-get install -y etcd-server), set ETCD_BIN, "
                                        + "or run scripts/test.sh which installs it");
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
