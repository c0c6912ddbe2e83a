package io.switchboard.runtime.db;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.util.DriverDataSource;
import io.helidon.config.Config;
import io.opentelemetry.instrumentation.jdbc.datasource.JdbcTelemetry;
import io.switchboard.server.Tracing;

/**
 * A service's own database: an embedded SQLite file under {@code data/} by default, PostgreSQL when
 * {@code db.url} says so ({@code db.user}, {@code db.password}), pooled by HikariCP, schema migrated at start.
 * <p>
 * SQLite runs with {@code journal_mode=WAL} and {@code synchronous=NORMAL} unless the service asks for
 * {@link Synchronous#FULL}: measured here, NORMAL loses no acknowledged commit when the process is killed with
 * SIGKILL, but a power cut or kernel crash can lose the last ones; FULL syncs the WAL at every commit and keeps them.
 * <p>
 * On SQLite, statements from {@link #prepared(Connection, String)} are prepared once per physical connection and
 * kept: neither HikariCP nor sqlite-jdbc caches statements, and preparing one cost SQLite more than running a lookup
 * by primary key. On PostgreSQL they go through the pool, which closes them when the connection returns and evicts a
 * connection whose statements fail with a connection error (a kept statement would hide those errors from it);
 * pgjdbc caches parsed and server-prepared statements itself.
 */
public final class Database implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Database.class.getName());
    /** Statements kept per connection at most; a caller building unbounded SQL shapes only loses the cache. */
    private static final int MAX_KEPT = 64;
    /** Whether this process has emptied its own native library directory (once, before sqlite-jdbc first loads). */
    private static final AtomicBoolean OWN_NATIVES_CLEANED = new AtomicBoolean();

    private final HikariDataSource dataSource;
    private final boolean sqlite;
    private final Map<Connection, Map<String, PreparedStatement>> kept = new ConcurrentHashMap<>();

    private Database(HikariDataSource dataSource, boolean sqlite) {
        this.dataSource = dataSource;
        this.sqlite = sqlite;
    }

    /**
     * Opens the database and applies the migrations not applied yet.
     *
     * @param config     the {@code db} node
     * @param dataDir    directory of the default SQLite database
     * @param name       file name for the default SQLite database, {@code <dataDir>/<name>.db}
     * @param migrations schema statements, in order; each index runs once, ever
     * @return the database
     */
    public static Database open(Config config, Path dataDir, String name, List<String> migrations) {
        return open(config, dataDir, name, migrations, Synchronous.NORMAL, Tracing.off());
    }

    /**
     * Opens the database and applies the migrations not applied yet; with tracing on, each statement run gets a
     * span (its kind and table, and its text with the values left out).
     *
     * @param config     the {@code db} node
     * @param dataDir    directory of the default SQLite database
     * @param name       file name for the default SQLite database, {@code <dataDir>/<name>.db}
     * @param migrations schema statements, in order; each index runs once, ever
     * @param tracing    the service's tracing ({@code ServiceRuntime.tracing()})
     * @return the database
     */
    public static Database open(Config config, Path dataDir, String name, List<String> migrations, Tracing tracing) {
        return open(config, dataDir, name, migrations, Synchronous.NORMAL, tracing);
    }

    /**
     * Opens the database and applies the migrations not applied yet, with an embedded SQLite database's commits
     * made as durable as {@code synchronous} says (PostgreSQL's durability is the server's).
     *
     * @param config      the {@code db} node
     * @param dataDir     directory of the default SQLite database
     * @param name        file name for the default SQLite database, {@code <dataDir>/<name>.db}
     * @param migrations  schema statements, in order; each index runs once, ever
     * @param synchronous SQLite's {@code synchronous} setting
     * @param tracing     the service's tracing ({@code ServiceRuntime.tracing()})
     * @return the database
     */
    public static Database open(Config config, Path dataDir, String name, List<String> migrations,
                                Synchronous synchronous, Tracing tracing) {
        String url = config.get("url").asString().orElse("jdbc:sqlite:" + dataDir.resolve(name + ".db"));
        boolean sqlite = url.startsWith("jdbc:sqlite:");
        HikariConfig hikari = new HikariConfig();
        hikari.setPoolName(name);
        if (sqlite) {
            prepareSqlite(url);
            hikari.setJdbcUrl(url);
            hikari.addDataSourceProperty("journal_mode", "WAL");
            hikari.addDataSourceProperty("synchronous", synchronous.name());
            hikari.addDataSourceProperty("busy_timeout", "5000");
            hikari.addDataSourceProperty("foreign_keys", "true");
            hikari.setMaximumPoolSize(config.get("pool-size").asInt().orElse(4));
        } else {
            hikari.setJdbcUrl(url);
            config.get("user").asString().ifPresent(hikari::setUsername);
            config.get("password").asString().ifPresent(hikari::setPassword);
            hikari.setMaximumPoolSize(config.get("pool-size").asInt().orElse(8));
        }
        hikari.setConnectionTimeout(5000);
        if (tracing.on()) {
            traced(hikari, tracing);
        }
        Database database = new Database(new HikariDataSource(hikari), sqlite);
        Migrations.apply(database.dataSource, migrations);
        LOG.log(Level.INFO, "database " + redact(url) + " ready");
        return database;
    }

    /*
     * The pool's connections come from OpenTelemetry's JDBC wrapper around the driver, so that the statements kept per
     * physical connection (prepared) are traced too; the pool's own checkouts are not.
     */
    private static void traced(HikariConfig hikari, Tracing tracing) {
        DataSource driver = new DriverDataSource(hikari.getJdbcUrl(), null, hikari.getDataSourceProperties(),
                                                 hikari.getUsername(), hikari.getPassword());
        hikari.setDataSource(JdbcTelemetry.builder(tracing.openTelemetry())
                                     .setDataSourceInstrumenterEnabled(false)
                                     .setQuerySanitizationEnabled(true)
                                     .setCaptureQueryParameters(false)
                                     .build()
                                     .wrap(driver));
        hikari.setJdbcUrl(null);
        hikari.setUsername(null);
        hikari.setPassword(null);
    }

    /**
     * How durable an embedded SQLite database's commits are (SQLite's {@code synchronous} in WAL mode).
     */
    public enum Synchronous {
        /** Kept through a killed process; a power cut or kernel crash can lose the last commits. */
        NORMAL,
        /** Kept through a power cut too: every commit waits for the WAL to reach the disk. */
        FULL
    }

    /**
     * The pooled data source.
     *
     * @return data source
     */
    public DataSource dataSource() {
        return dataSource;
    }

    /**
     * The statement for {@code sql} on a connection from {@link #dataSource()}. On SQLite it is prepared at its first
     * use on that physical connection and kept for the next, with its parameters cleared; on PostgreSQL it is
     * prepared anew and closed when the connection returns to the pool. Use it only while holding the connection,
     * and never close it (close its result sets).
     *
     * @param connection a connection from this database's pool, held by the caller
     * @param sql        statement text; a few fixed shapes, not text with values in it
     * @return the statement
     * @throws SQLException if it cannot be prepared
     */
    public PreparedStatement prepared(Connection connection, String sql) throws SQLException {
        if (!sqlite) {
            return connection.prepareStatement(sql);
        }
        Connection physical = connection.unwrap(Connection.class);
        Map<String, PreparedStatement> statements = kept.get(physical);
        if (statements == null) {
            // a connection new to us: forget those the pool has closed since (their statements closed with them)
            kept.keySet().removeIf(Database::isClosed);
            statements = new ConcurrentHashMap<>();
            kept.put(physical, statements);
        }
        PreparedStatement statement = statements.get(sql);
        if (statement != null && !statement.isClosed()) {
            statement.clearParameters();
            return statement;
        }
        if (statements.size() >= MAX_KEPT) {
            closeAll(statements);
        }
        statement = physical.prepareStatement(sql);
        statements.put(sql, statement);
        return statement;
    }

    @Override
    public void close() {
        kept.values().forEach(Database::closeAll);
        kept.clear();
        if (sqlite) {
            // fold the WAL back into the main file, so that a stopped service leaves one file behind
            try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
                statement.execute("PRAGMA wal_checkpoint(TRUNCATE)");
            } catch (SQLException e) {
                LOG.log(Level.DEBUG, "checkpoint at close failed: " + e.getMessage());
            }
        }
        dataSource.close();
    }

    /*
     * The file's directory must exist. sqlite-jdbc unpacks its native library into org.sqlite.tmpdir at every start,
     * and a killed JVM leaves its copy behind: keep the copies under the data directory, one directory per process
     * (.sqlite-native/<pid>), and remove at start only the directories of processes that are gone. Several instances
     * share a data directory locally; when each start cleaned one shared directory, an instance starting at the same
     * moment lost its library while unpacking or loading it (UnsatisfiedLinkError: no sqlitejdbc, 3 starts in 16).
     */
    private static void prepareSqlite(String url) {
        String file = url.substring("jdbc:sqlite:".length()).replaceFirst("\\?.*", "");
        try {
            Path parent = Path.of(file).toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Path natives = parent.resolve(".sqlite-native");
            Files.createDirectories(natives);
            long self = ProcessHandle.current().pid();
            try (Stream<Path> entries = Files.list(natives)) {
                entries.filter(entry -> isLeftBehind(entry, self)).forEach(Database::deleteTree);
            }
            Path own = natives.resolve(Long.toString(self));
            if (OWN_NATIVES_CLEANED.compareAndSet(false, true)) {
                // a process that had our pid before (pid 1 in every container) left it: nothing of ours is in it yet
                deleteTree(own);
            }
            Files.createDirectories(own);
            System.setProperty("org.sqlite.tmpdir", own.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the directory of " + file, e);
        }
    }

    /* A directory named after the pid of a process that no longer runs. Anything else is left alone. */
    private static boolean isLeftBehind(Path entry, long self) {
        String name = entry.getFileName().toString();
        if (!name.matches("[0-9]{1,18}") || !Files.isDirectory(entry)) {
            return false;
        }
        long pid = Long.parseLong(name);
        return pid != self && ProcessHandle.of(pid).isEmpty();
    }

    /* Deletes a tree as far as it can: another start may be deleting the same one. */
    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> tree = Files.walk(root)) {
            tree.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            LOG.log(Level.DEBUG, "cleaning " + root + " stopped: " + e.getMessage());
        }
    }

    private static void closeAll(Map<String, PreparedStatement> statements) {
        for (PreparedStatement statement : statements.values()) {
            try {
                statement.close();
            } catch (SQLException e) {
                LOG.log(Level.DEBUG, "closing a kept statement failed: " + e.getMessage());
            }
        }
        statements.clear();
    }

    private static boolean isClosed(Connection connection) {
        try {
            return connection.isClosed();
        } catch (SQLException e) {
            return true;
        }
    }

    private static String redact(String url) {
        return url.replaceAll("password=[^&;]*", "password=***");
    }
}
