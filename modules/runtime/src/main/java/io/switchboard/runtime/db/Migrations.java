package io.switchboard.runtime.db;

import java.lang.System.Logger.Level;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

import javax.sql.DataSource;

/**
 * Versioned schema changes: statement {@code i} of the list is migration {@code i + 1} and runs once, ever,
 * recorded in {@code schema_version}. Statements are only ever appended. Portable SQL (SQLite and PostgreSQL).
 * Two instances starting together on one PostgreSQL database serialize on the version table's primary key.
 */
final class Migrations {
    private static final System.Logger LOG = System.getLogger(Migrations.class.getName());

    private Migrations() {
    }

    static void apply(DataSource dataSource, List<String> migrations) {
        try (Connection connection = dataSource.getConnection()) {
            createVersionTable(connection);
            connection.setAutoCommit(false);
            for (int i = 0; i < migrations.size(); i++) {
                int version = i + 1;
                if (applied(connection, version)) {
                    continue;
                }
                try (Statement statement = connection.createStatement();
                     PreparedStatement record = connection.prepareStatement(
                             "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)")) {
                    record.setInt(1, version);
                    record.setLong(2, System.currentTimeMillis());
                    record.executeUpdate();
                    statement.execute(migrations.get(i));
                    connection.commit();
                    LOG.log(Level.INFO, "schema migrated to version " + version);
                } catch (SQLException e) {
                    connection.rollback();
                    if (!applied(connection, version)) {
                        throw e;
                    }
                    // another instance applied it meanwhile
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("schema migration failed: " + e.getMessage(), e);
        }
    }

    /*
     * PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe against itself: two instances racing can get a duplicate
     * key error from its catalog. The loser finds the table there when it tries again.
     */
    private static void createVersionTable(Connection connection) throws SQLException {
        String sql = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)";
        try (Statement statement = connection.createStatement()) {
            statement.execute(sql);
        } catch (SQLException first) {
            try (Statement statement = connection.createStatement()) {
                statement.execute(sql);
            }
        }
    }

    private static boolean applied(Connection connection, int version) throws SQLException {
        try (PreparedStatement query = connection.prepareStatement("SELECT 1 FROM schema_version WHERE version = ?")) {
            query.setInt(1, version);
            try (ResultSet rows = query.executeQuery()) {
                return rows.next();
            }
        }
    }
}
