package ${package};

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import io.grpc.Status;
import io.switchboard.runtime.db.Database;
import io.switchboard.runtime.db.KeysetTokens;

/**
 * Items in the service's own database (SQLite by default, PostgreSQL with {@code db.url}), oldest first with keyset
 * paging. Thread safe.
 */
final class Items {
    /** Schema migrations, in order; append only. */
    static final List<String> MIGRATIONS = List.of(
            "CREATE TABLE items (id VARCHAR(36) PRIMARY KEY, owner VARCHAR(64) NOT NULL, text TEXT NOT NULL, "
            + "created_at BIGINT NOT NULL)",
            "CREATE INDEX items_oldest ON items (created_at, id)");
    private static final String COLUMNS = "id, owner, text, created_at";
    private static final String PAGES = "i1";

    private final Database database;

    Items(Database database) {
        this.database = database;
    }

    StoredItem create(String owner, String text) {
        StoredItem item = new StoredItem(UUID.randomUUID().toString(), owner, text, System.currentTimeMillis());
        try (Connection connection = database.dataSource().getConnection()) {
            PreparedStatement insert = database.prepared(connection, "INSERT INTO items (" + COLUMNS
                                                                     + ") VALUES (?, ?, ?, ?)");
            insert.setString(1, item.id());
            insert.setString(2, item.owner());
            insert.setString(3, item.text());
            insert.setLong(4, item.createdAt());
            insert.executeUpdate();
            return item;
        } catch (SQLException e) {
            throw unavailable(e);
        }
    }

    Optional<StoredItem> get(String id) {
        try (Connection connection = database.dataSource().getConnection()) {
            PreparedStatement query = database.prepared(connection, "SELECT " + COLUMNS + " FROM items WHERE id = ?");
            query.setString(1, id);
            return read(query).stream().findFirst();
        } catch (SQLException e) {
            throw unavailable(e);
        }
    }

    KeysetTokens.Page<StoredItem> list(int pageSize, String pageToken) {
        KeysetTokens.Position after = pageToken.isEmpty() ? null : KeysetTokens.decode(pageToken, PAGES, "");
        String sql = "SELECT " + COLUMNS + " FROM items"
                     + (after == null ? "" : " WHERE created_at > ? OR (created_at = ? AND id > ?)")
                     + " ORDER BY created_at, id LIMIT ?";
        try (Connection connection = database.dataSource().getConnection()) {
            PreparedStatement query = database.prepared(connection, sql);
            int i = 1;
            if (after != null) {
                query.setLong(i++, after.createdAt());
                query.setLong(i++, after.createdAt());
                query.setString(i++, after.id());
            }
            query.setInt(i, pageSize + 1);
            return KeysetTokens.page(read(query), pageSize, item -> new KeysetTokens.Position(item.createdAt(), item.id()),
                                     position -> KeysetTokens.encode(PAGES, position, ""));
        } catch (SQLException e) {
            throw unavailable(e);
        }
    }

    private static List<StoredItem> read(PreparedStatement query) throws SQLException {
        List<StoredItem> items = new ArrayList<>();
        try (ResultSet rows = query.executeQuery()) {
            while (rows.next()) {
                items.add(new StoredItem(rows.getString(1), rows.getString(2), rows.getString(3), rows.getLong(4)));
            }
        }
        return items;
    }

    private static RuntimeException unavailable(SQLException e) {
        return Status.UNAVAILABLE.withDescription("database unavailable").withCause(e).asRuntimeException();
    }

    record StoredItem(String id, String owner, String text, long createdAt) {
    }
}
