package io.switchboard.post.posts;

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
 * Posts in the service's own database. Lists are newest first (creation time in milliseconds, then id, both
 * descending: a total order, since posts of one millisecond are in no creation order anyone could see) with keyset
 * paging, so a page never repeats or skips a post because others were written meanwhile. Every write is committed before it is acknowledged.
 * Thread safe.
 */
public final class Posts {
    /** Schema migrations, in order; append only. */
    public static final List<String> MIGRATIONS = List.of(
            "CREATE TABLE posts (id VARCHAR(36) PRIMARY KEY, author VARCHAR(64) NOT NULL, title VARCHAR(200) NOT NULL, "
            + "content TEXT NOT NULL, created_at BIGINT NOT NULL)",
            "CREATE INDEX posts_newest ON posts (created_at DESC, id DESC)",
            "CREATE INDEX posts_by_author ON posts (author, created_at DESC, id DESC)");

    private static final String COLUMNS = "id, author, title, content, created_at";
    private static final String INSERT = "INSERT INTO posts (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?)";
    private static final String BY_ID = "SELECT " + COLUMNS + " FROM posts WHERE id = ?";

    private final Database database;

    /**
     * Posts over a database migrated with {@link #MIGRATIONS}.
     *
     * @param database database
     */
    public Posts(Database database) {
        this.database = database;
    }

    /**
     * Stores a new post.
     *
     * @param author  author's user id
     * @param title   title
     * @param content content
     * @return the stored post
     */
    public StoredPost create(String author, String title, String content) {
        StoredPost post = new StoredPost(UUID.randomUUID().toString(), author, title, content, System.currentTimeMillis());
        try (Connection connection = database.dataSource().getConnection()) {
            PreparedStatement insert = database.prepared(connection, INSERT);
            insert.setString(1, post.id());
            insert.setString(2, post.author());
            insert.setString(3, post.title());
            insert.setString(4, post.content());
            insert.setLong(5, post.createdAt());
            insert.executeUpdate();
            return post;
        } catch (SQLException e) {
            throw unavailable(e);
        }
    }

    /**
     * A post by id.
     *
     * @param id post id
     * @return the post, if any
     */
    public Optional<StoredPost> get(String id) {
        try (Connection connection = database.dataSource().getConnection()) {
            PreparedStatement query = database.prepared(connection, BY_ID);
            query.setString(1, id);
            List<StoredPost> posts = read(query);
            return posts.stream().findFirst();
        } catch (SQLException e) {
            throw unavailable(e);
        }
    }

    /**
     * One page of posts, newest first; posts of the same millisecond by id, descending.
     *
     * @param author    author filter, empty for all
     * @param pageSize  1..100
     * @param pageToken token from the previous page, empty for the first
     * @return the page and the token of the next one (empty when this is the last)
     */
    public KeysetTokens.Page<StoredPost> list(String author, int pageSize, String pageToken) {
        KeysetTokens.Position after = pageToken.isEmpty() ? null : PageTokens.decode(pageToken, author);
        StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM posts WHERE 1 = 1");
        List<Object> parameters = new ArrayList<>();
        if (!author.isEmpty()) {
            sql.append(" AND author = ?");
            parameters.add(author);
        }
        if (after != null) {
            sql.append(" AND (created_at < ? OR (created_at = ? AND id < ?))");
            parameters.add(after.createdAt());
            parameters.add(after.createdAt());
            parameters.add(after.id());
        }
        sql.append(" ORDER BY created_at DESC, id DESC LIMIT ?");
        parameters.add(pageSize + 1);
        try (Connection connection = database.dataSource().getConnection()) {
            PreparedStatement query = database.prepared(connection, sql.toString());
            for (int i = 0; i < parameters.size(); i++) {
                query.setObject(i + 1, parameters.get(i));
            }
            return KeysetTokens.page(read(query), pageSize, post -> new KeysetTokens.Position(post.createdAt(), post.id()),
                                     position -> PageTokens.encode(position, author));
        } catch (SQLException e) {
            throw unavailable(e);
        }
    }

    /**
     * Deletes a post.
     *
     * @param id post id
     * @return whether a post was deleted
     */
    public boolean delete(String id) {
        try (Connection connection = database.dataSource().getConnection()) {
            PreparedStatement delete = database.prepared(connection, "DELETE FROM posts WHERE id = ?");
            delete.setString(1, id);
            return delete.executeUpdate() == 1;
        } catch (SQLException e) {
            throw unavailable(e);
        }
    }

    private static List<StoredPost> read(PreparedStatement query) throws SQLException {
        List<StoredPost> posts = new ArrayList<>();
        try (ResultSet rows = query.executeQuery()) {
            while (rows.next()) {
                posts.add(new StoredPost(rows.getString(1), rows.getString(2), rows.getString(3), rows.getString(4),
                                         rows.getLong(5)));
            }
        }
        return posts;
    }

    private static RuntimeException unavailable(SQLException e) {
        return Status.UNAVAILABLE.withDescription("database unavailable").withCause(e).asRuntimeException();
    }

    /**
     * A stored post.
     *
     * @param id        post id
     * @param author    author's user id
     * @param title     title
     * @param content   content
     * @param createdAt creation time, epoch millis
     */
    public record StoredPost(String id, String author, String title, String content, long createdAt) {
    }
}
