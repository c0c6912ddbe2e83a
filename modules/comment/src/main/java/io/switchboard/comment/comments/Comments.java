package io.switchboard.comment.comments;

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
 * Comments in the service's own database. Lists are oldest first (creation time in milliseconds, then id: a total
 * order) with keyset paging, so a page never repeats or skips a comment because others were written meanwhile. Every
 * write is committed before it is acknowledged. Thread safe.
 */
public final class Comments {
    /** Schema migrations, in order; append only. */
    public static final List<String> MIGRATIONS = List.of(
            "CREATE TABLE comments (id VARCHAR(36) PRIMARY KEY, post_id VARCHAR(64) NOT NULL, "
            + "author VARCHAR(64) NOT NULL, text TEXT NOT NULL, created_at BIGINT NOT NULL)",
            "CREATE INDEX comments_by_post ON comments (post_id, created_at, id)",
            "CREATE INDEX comments_by_author ON comments (author, created_at, id)");

    private static final String COLUMNS = "id, post_id, author, text, created_at";
    private static final String INSERT = "INSERT INTO comments (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?)";

    private final Database database;

    /**
     * Comments over a database migrated with {@link #MIGRATIONS}.
     *
     * @param database database
     */
    public Comments(Database database) {
        this.database = database;
    }

    /**
     * Stores a new comment.
     *
     * @param postId the post commented on
     * @param author author's user id
     * @param text   text
     * @return the stored comment
     */
    public StoredComment create(String postId, String author, String text) {
        StoredComment comment = new StoredComment(UUID.randomUUID().toString(), postId, author, text,
                                                  System.currentTimeMillis());
        try (Connection connection = database.dataSource().getConnection()) {
            PreparedStatement insert = database.prepared(connection, INSERT);
            insert.setString(1, comment.id());
            insert.setString(2, comment.postId());
            insert.setString(3, comment.author());
            insert.setString(4, comment.text());
            insert.setLong(5, comment.createdAt());
            insert.executeUpdate();
            return comment;
        } catch (SQLException e) {
            throw unavailable(e);
        }
    }

    /**
     * A comment on a post.
     *
     * @param postId the post
     * @param id     comment id
     * @return the comment, if the post has one with that id
     */
    public Optional<StoredComment> get(String postId, String id) {
        try (Connection connection = database.dataSource().getConnection()) {
            PreparedStatement query = database.prepared(connection, "SELECT " + COLUMNS
                                                                    + " FROM comments WHERE id = ? AND post_id = ?");
            query.setString(1, id);
            query.setString(2, postId);
            return read(query).stream().findFirst();
        } catch (SQLException e) {
            throw unavailable(e);
        }
    }

    /**
     * One page of comments, oldest first; comments of the same millisecond by id.
     *
     * @param filter    the comments of one post, or of one author
     * @param pageSize  1..100
     * @param pageToken token from the previous page of this filter, empty for the first
     * @return the page and the token of the next one (empty when this is the last)
     */
    public KeysetTokens.Page<StoredComment> list(Filter filter, int pageSize, String pageToken) {
        String kind = filter.byPost() ? "cp1" : "ca1";
        KeysetTokens.Position after = pageToken.isEmpty() ? null : KeysetTokens.decode(pageToken, kind, filter.value());
        String sql = "SELECT " + COLUMNS + " FROM comments WHERE " + (filter.byPost() ? "post_id" : "author") + " = ?"
                     + (after == null ? "" : " AND (created_at > ? OR (created_at = ? AND id > ?))")
                     + " ORDER BY created_at, id LIMIT ?";
        try (Connection connection = database.dataSource().getConnection()) {
            PreparedStatement query = database.prepared(connection, sql);
            int i = 1;
            query.setString(i++, filter.value());
            if (after != null) {
                query.setLong(i++, after.createdAt());
                query.setLong(i++, after.createdAt());
                query.setString(i++, after.id());
            }
            query.setInt(i, pageSize + 1);
            return KeysetTokens.page(read(query), pageSize, c -> new KeysetTokens.Position(c.createdAt(), c.id()),
                                     position -> KeysetTokens.encode(kind, position, filter.value()));
        } catch (SQLException e) {
            throw unavailable(e);
        }
    }

    /**
     * Deletes a comment.
     *
     * @param id comment id
     * @return whether a comment was deleted
     */
    public boolean delete(String id) {
        try (Connection connection = database.dataSource().getConnection()) {
            PreparedStatement delete = database.prepared(connection, "DELETE FROM comments WHERE id = ?");
            delete.setString(1, id);
            return delete.executeUpdate() == 1;
        } catch (SQLException e) {
            throw unavailable(e);
        }
    }

    private static List<StoredComment> read(PreparedStatement query) throws SQLException {
        List<StoredComment> comments = new ArrayList<>();
        try (ResultSet rows = query.executeQuery()) {
            while (rows.next()) {
                comments.add(new StoredComment(rows.getString(1), rows.getString(2), rows.getString(3),
                                               rows.getString(4), rows.getLong(5)));
            }
        }
        return comments;
    }

    private static RuntimeException unavailable(SQLException e) {
        return Status.UNAVAILABLE.withDescription("database unavailable").withCause(e).asRuntimeException();
    }

    /**
     * Which comments a list shows.
     *
     * @param byPost true: the comments on the post {@code value}; false: the comments by the author {@code value}
     * @param value  post id or author's user id
     */
    public record Filter(boolean byPost, String value) {
    }

    /**
     * A stored comment.
     *
     * @param id        comment id
     * @param postId    the post commented on
     * @param author    author's user id
     * @param text      text
     * @param createdAt creation time, epoch millis
     */
    public record StoredComment(String id, String postId, String author, String text, long createdAt) {
    }
}
