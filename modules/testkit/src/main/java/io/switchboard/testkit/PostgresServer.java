package io.switchboard.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server (Debian's {@code postgresql}) in a temporary data directory on a free loopback port,
 * with trust authentication for user {@value #USER}. PostgreSQL refuses to run as root, so when the tests do, it
 * runs as the {@code postgres} user. When it cannot start, {@link #start()} throws with a message that says what to
 * install: a test that needs it fails, it never skips. Not thread safe.
 */
public final class PostgresServer implements AutoCloseable {
    /** The superuser tests connect as. */
    public static final String USER = "switchboard";

    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final Path dir;
    private final int port;
    private final Process process;

    private PostgresServer(Path dir, int port, Process process) {
        this.dir = dir;
        this.port = port;
        this.process = process;
    }

    /**
     * Initializes a cluster and starts it.
     *
     * @return the running server
     */
    public static PostgresServer start() {
        Path bin = findBin();
        boolean root = "root".equals(System.getProperty("user.name"));
        try {
            Path dir = Files.createTempDirectory("switchboard-pg-");
            if (root) {
                UserPrincipalLookupService users = dir.getFileSystem().getUserPrincipalLookupService();
                Files.setOwner(dir, users.lookupPrincipalByName("postgres"));
            }
            Path data = dir.resolve("data");
            run(root, List.of(bin.resolve("initdb").toString(), "-D", data.toString(), "-U", USER, "--auth=trust",
                              "-E", "UTF8", "--no-sync"), dir.resolve("initdb.log"));
            int port = FreePorts.next();
            List<String> command = command(root, List.of(bin.resolve("postgres").toString(), "-D", data.toString(),
                                                         "-p", String.valueOf(port), "-k", dir.toString(),
                                                         "-c", "listen_addresses=127.0.0.1"));
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("postgres.log").toFile()).start();
            PostgresServer server = new PostgresServer(dir, port, process);
            server.awaitReady();
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start PostgreSQL", e);
        }
    }

    /**
     * Creates a database.
     *
     * @param name database name
     * @return its JDBC URL
     */
    public String createDatabase(String name) {
        try (Connection connection = DriverManager.getConnection(url("postgres"), USER, "");
             Statement statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE " + name);
            return url(name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + name, e);
        }
    }

    /**
     * JDBC URL of a database on this server.
     *
     * @param database database name
     * @return URL
     */
    public String url(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    @Override
    public void close() {
        // SIGINT: PostgreSQL's fast shutdown
        try {
            new ProcessBuilder("kill", "-INT", String.valueOf(process.pid())).start().waitFor();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (IOException | InterruptedException e) {
            process.destroyForcibly();
        }
        ServerFiles.delete(dir);
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        SQLException last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("PostgreSQL exited at start:\n"
                                                + ServerFiles.tail(dir.resolve("postgres.log")));
            }
            try (Connection ignored = DriverManager.getConnection(url("postgres"), USER, "")) {
                return;
            } catch (SQLException e) {
                last = e;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
        throw new IllegalStateException("PostgreSQL not ready after " + START_TIMEOUT.toSeconds() + " s (" + last + "):\n"
                                        + ServerFiles.tail(dir.resolve("postgres.log")));
    }

    private static void run(boolean root, List<String> command, Path log) throws IOException {
        try {
            Process process = new ProcessBuilder(command(root, command)).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed:\n" + ServerFiles.tail(log));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static List<String> command(boolean root, List<String> command) {
        List<String> full = new ArrayList<>();
        if (root) {
            full.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        full.addAll(command);
        return full;
    }

    private static Path findBin() {
        String configured = System.getenv("PG_BIN");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        try (Stream<Path> versions = Files.list(Path.of("/usr/lib/postgresql"))) {
            return versions.map(v -> v.resolve("bin"))
                    .filter(b -> Files.isExecutable(b.resolve("postgres")) && Files.isExecutable(b.resolve("initdb")))
                    .max(Comparator.comparing(b -> Integer.parseInt(b.getParent().getFileName().toString().replaceAll("\\D", "0"))))
                    .orElseThrow();
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("No PostgreSQL server found under /usr/lib/postgresql. Tests run a real one: "
                                            + "install Debian's postgresql (apt-get install -y postgresql), set PG_BIN, "
                                            + "or run scripts/test.sh which installs it");
        }
    }
}
