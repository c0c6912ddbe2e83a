package io.switchboard.runtime.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.zaxxer.hikari.HikariDataSource;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.switchboard.testkit.PostgresServer;
import org.junit.jupiter.api.Test;

/**
 * Statements from {@link Database#prepared} against a real SQLite file and a real PostgreSQL: on SQLite kept per
 * physical connection, never showing an old snapshot or old parameters, and prepared anew after the pool replaces
 * its connections; on PostgreSQL closed with the connection's return, as the pool does with its own.
 */
class DatabaseTest {
    private static final List<String> SCHEMA = List.of("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)");
    private static final String INSERT = "INSERT INTO notes (id, text) VALUES (?, ?)";
    private static final String BY_ID = "SELECT text FROM notes WHERE id = ?";

    @Test
    void sqliteKeepsStatementsAndStaysCorrect() throws Exception {
        try (Database database = Database.open(Config.empty(), Files.createTempDirectory("database-test-"), "notes",
                                               SCHEMA)) {
            checkStatements(database, true);
        }
    }

    @Test
    void sqliteKeptQueriesHoldNoSnapshotOnceTheirRowsAreClosed() throws Exception {
        try (Database database = Database.open(Config.empty(), Files.createTempDirectory("database-test-"), "notes",
                                               SCHEMA)) {
            insert(database, 1, "first");
            insert(database, 2, "second");
            try (Connection reader = database.dataSource().getConnection()) {
                // read one row of two and close the rows, as a lookup of one account does
                try (ResultSet rows = database.prepared(reader, "SELECT text FROM notes ORDER BY id").executeQuery()) {
                    assertThat(rows.next()).isTrue();
                }
                // a kept statement still in a read transaction would make this checkpoint busy (and the WAL grow)
                try (Connection other = database.dataSource().getConnection();
                     Statement statement = other.createStatement();
                     ResultSet checkpoint = statement.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
                    assertThat(checkpoint.next()).isTrue();
                    assertThat(checkpoint.getInt(1)).as("checkpoint busy").isZero();
                }
            }
        }
    }

    @Test
    void postgresKeepsStatementsAndStaysCorrect() throws Exception {
        try (PostgresServer postgres = PostgresServer.start()) {
            Config config = Config.just(ConfigSources.create(
                    Map.of("url", postgres.createDatabase("notes"), "user", PostgresServer.USER)));
            try (Database database = Database.open(config, Path.of("unused"), "notes", SCHEMA)) {
                checkStatements(database, false);
            }
        }
    }

    private static void checkStatements(Database database, boolean kept) throws SQLException {
        insert(database, 1, "first");
        PreparedStatement first;
        try (Connection reader = database.dataSource().getConnection()) {
            first = database.prepared(reader, BY_ID);
            assertThat(text(first, 1)).isEqualTo("first");

            // another connection writes while this one holds its kept statement: the next read sees the write
            try (Connection writer = database.dataSource().getConnection()) {
                PreparedStatement insert = database.prepared(writer, INSERT);
                insert.setInt(1, 2);
                insert.setString(2, "second");
                assertThat(insert.executeUpdate()).isEqualTo(1);
            }
            PreparedStatement again = database.prepared(reader, BY_ID);
            assertThat(again == first).as("kept").isEqualTo(kept);
            assertThat(text(again, 2)).isEqualTo("second");

            // parameters are cleared between uses: a missing one is an error or NULL, never the last caller's value
            PreparedStatement unbound = database.prepared(reader, BY_ID);
            List<String> leaked;
            try {
                leaked = rows(unbound);
            } catch (SQLException e) {
                leaked = List.of();
            }
            assertThat(leaked).isEmpty();
        }

        // statements that are not kept close with the connection's return, as the pool's own do: none is left open
        assertThat(first.isClosed()).isEqualTo(!kept);

        // the pool replaces every connection: statements are prepared anew on the new ones and still answer
        ((HikariDataSource) database.dataSource()).getHikariPoolMXBean().softEvictConnections();
        try (Connection connection = database.dataSource().getConnection()) {
            PreparedStatement fresh = database.prepared(connection, BY_ID);
            assertThat(fresh).isNotSameAs(first);
            assertThat(text(fresh, 1)).isEqualTo("first");
        }
    }

    private static void insert(Database database, int id, String text) throws SQLException {
        try (Connection connection = database.dataSource().getConnection()) {
            PreparedStatement insert = database.prepared(connection, INSERT);
            insert.setInt(1, id);
            insert.setString(2, text);
            insert.executeUpdate();
        }
    }

    private static String text(PreparedStatement query, int id) throws SQLException {
        query.setInt(1, id);
        List<String> texts = rows(query);
        assertThat(texts).hasSize(1);
        return texts.get(0);
    }

    private static List<String> rows(PreparedStatement query) throws SQLException {
        List<String> texts = new ArrayList<>();
        try (ResultSet rows = query.executeQuery()) {
            while (rows.next()) {
                texts.add(rows.getString(1));
            }
        }
        return texts;
    }
}
