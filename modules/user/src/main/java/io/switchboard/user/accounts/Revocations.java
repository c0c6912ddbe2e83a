package io.switchboard.user.accounts;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import io.switchboard.runtime.db.Database;
import io.switchboard.tokens.RevokedTokens;

/**
 * The tokens revoked by logouts, in the user database, so that every user instance on that database hands them to
 * the verifiers that poll it. A row is kept until its token has expired: expired rows are deleted at the next
 * logout. Thread safe.
 */
public final class Revocations {
    /** The most revocations one page holds. */
    public static final int PAGE = 1000;
    /* rows stay this long past their token's expiry: longer than any verifier's clock skew (at most 5 minutes) */
    private static final long KEEP_AFTER_EXPIRY_MILLIS = 10 * 60 * 1000;

    private final Database database;

    /**
     * Revocations in a database migrated with {@link Accounts#MIGRATIONS}.
     *
     * @param database database
     */
    public Revocations(Database database) {
        this.database = database;
    }

    /**
     * Records a revocation, committed before it returns; revoking a token twice keeps the first record.
     *
     * @param tokenId         the token's {@code jti}
     * @param userId          whose token it is
     * @param expiresAtMillis when the token expires
     * @return when it was revoked (now)
     * @throws io.grpc.StatusRuntimeException UNAVAILABLE when the database fails
     */
    public long revoke(String tokenId, String userId, long expiresAtMillis) {
        long now = System.currentTimeMillis();
        try (Connection connection = database.dataSource().getConnection()) {
            PreparedStatement insert = database.prepared(
                    connection, "INSERT INTO revoked_tokens (token_id, user_id, expires_at, revoked_at) VALUES (?, ?, ?, ?)");
            insert.setString(1, tokenId);
            insert.setString(2, userId);
            insert.setLong(3, expiresAtMillis);
            insert.setLong(4, now);
            try {
                insert.executeUpdate();
            } catch (SQLException e) {
                if (!Accounts.isUniqueViolation(e)) {
                    throw e;
                }
            }
            PreparedStatement expired = database.prepared(connection, "DELETE FROM revoked_tokens WHERE expires_at < ?");
            expired.setLong(1, now - KEEP_AFTER_EXPIRY_MILLIS);
            expired.executeUpdate();
            return now;
        } catch (SQLException e) {
            throw Accounts.unavailable(e);
        }
    }

    /**
     * A page of revocations of tokens not expired yet, ordered by time then token id.
     *
     * @param sinceMillis  revocations at or after this time
     * @param afterTokenId within {@code sinceMillis}, only token ids after this one ({@code ""}: all)
     * @return up to {@link #PAGE} revocations, and whether more follow
     * @throws io.grpc.StatusRuntimeException UNAVAILABLE when the database fails
     */
    public RevokedTokens.Page since(long sinceMillis, String afterTokenId) {
        try (Connection connection = database.dataSource().getConnection()) {
            PreparedStatement query = database.prepared(
                    connection, "SELECT token_id, expires_at, revoked_at FROM revoked_tokens "
                                + "WHERE revoked_at >= ? AND (revoked_at > ? OR token_id > ?) AND expires_at > ? "
                                + "ORDER BY revoked_at, token_id LIMIT " + (PAGE + 1));
            query.setLong(1, sinceMillis);
            query.setLong(2, sinceMillis);
            query.setString(3, afterTokenId);
            query.setLong(4, System.currentTimeMillis() - KEEP_AFTER_EXPIRY_MILLIS);
            List<RevokedTokens.Revoked> tokens = new ArrayList<>();
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    tokens.add(new RevokedTokens.Revoked(rows.getString(1), rows.getLong(2), rows.getLong(3)));
                }
            }
            boolean more = tokens.size() > PAGE;
            return new RevokedTokens.Page(more ? tokens.subList(0, PAGE) : tokens, more);
        } catch (SQLException e) {
            throw Accounts.unavailable(e);
        }
    }
}
