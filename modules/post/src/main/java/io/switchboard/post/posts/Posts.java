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
            "CREATE INDEX posts_by_author ON posts (author, created_at DESC, id DESC)",
            // the feed's order: every new post takes the next number in the transaction that stores it, so the
            // numbers become visible in order and are never reused (posts from before have none, and no place in it)
            "ALTER TABLE posts ADD COLUMN seq BIGINT",
            "CREATE UNIQUE INDEX posts_by_seq ON posts (seq)",
            "CREATE TABLE post_sequence (last BIGINT NOT NULL)",
            "INSERT INTO post_sequence (last) VALUES (0)");

    private static final String COLUMNS = "id, author, title, content, created_at";
    private static final String INSERT = "INSERT INTO posts (" + COLUMNS + ", seq) VALUES (?, ?, ?, ?, ?, ?)";
    private static final String NEXT = "UPDATE post_sequence SET last = last + 1";
    private static final String LAST = "SELECT last FROM post_sequence";
    private static final String AFTER = "SELECT " + COLUMNS + ", seq FROM posts WHERE seq > ? ORDER BY seq LIMIT ?";
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
        String id = UUID.randomUUID().toString();
        try (Connection connection = database.dataSource().getConnection()) {
            connection.setAutoCommit(false);
            try {
                // the sequence's row is locked until the commit: the next post waits for this one's number to be seen
                database.prepared(connection, NEXT).executeUpdate();
                long seq = last(connection);
                StoredPost post = new StoredPost(id, author, title, content, System.currentTimeMillis(), seq);
                PreparedStatement insert = database.prepared(connection, INSERT);
                insert.setString(1, post.id());
                insert.setString(2, post.author());
                insert.setString(3, post.title());
                insert.setString(4, post.content());
                insert.setLong(5, post.createdAt());
                insert.setLong(6, post.seq());
                insert.executeUpdate();
                connection.commit();
                return post;
            } catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            } finally {
                connection.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw unavailable(e);
        }
    }

    /**
     * The feed's position of the newest post: every post numbered up to it is stored, or deleted.
     *
     * @return the last number given, 0 before the first post
     */
    public long lastSequence() {
        try (Connection connection = database.dataSource().getConnection()) {
            return last(connection);
        } catch (SQLException e) {
            throw unavailable(e);
        }
    }

    /**
     * Posts created after a position of the feed, oldest first.
     *
     * @param seq   a position ({@link StoredPost#seq()}, or 0 for the start)
     * @param limit at most this many
     * @return the posts
     */
    public List<StoredPost> after(long seq, int limit) {
        try (Connection connection = database.dataSource().getConnection()) {
            PreparedStatement query = database.prepared(connection, AFTER);
            query.setLong(1, seq);
            query.setInt(2, limit);
            return read(query);
        } catch (SQLException e) {
            throw unavailable(e);
        }
    }

    private long last(Connection connection) throws SQLException {
        try (ResultSet row = database.prepared(connection, LAST).executeQuery()) {
            if (!row.next()) {
                throw new SQLException("post_sequence has no row");
            }
            return row.getLong(1);
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
            // seq: only the feed's reads select it
            boolean withSeq = rows.getMetaData().getColumnCount() > 5;
            while (rows.next()) {
                long seq = withSeq ? rows.getLong(6) : 0;
                posts.add(new StoredPost(rows.getString(1), rows.getString(2), rows.getString(3), rows.getString(4),
                                         rows.getLong(5), seq));
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
     * @param seq       its position in the feed of new posts (0 when not read, or made before the feed)
     */
    public record StoredPost(String id, String author, String title, String content, long createdAt, long seq) {
    }
}
