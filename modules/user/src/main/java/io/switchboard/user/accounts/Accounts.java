package io.switchboard.user.accounts;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import io.grpc.Status;
import io.switchboard.runtime.db.Database;

/**
 * User accounts in the service's own database. Every write is committed before it is acknowledged. Thread safe.
 */
public final class Accounts {
    /** Schema migrations of the user database (accounts, then {@link Revocations}), in order; append only. */
    public static final List<String> MIGRATIONS = List.of(
            "CREATE TABLE users (id VARCHAR(36) PRIMARY KEY, phone_number VARCHAR(16) NOT NULL UNIQUE, "
            + "password_hash VARCHAR(255) NOT NULL, created_at BIGINT NOT NULL)",
            "CREATE TABLE revoked_tokens (token_id VARCHAR(64) PRIMARY KEY, user_id VARCHAR(36) NOT NULL, "
            + "expires_at BIGINT NOT NULL, revoked_at BIGINT NOT NULL)",
            "CREATE INDEX revoked_tokens_by_time ON revoked_tokens (revoked_at, token_id)",
            "CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_at)");

    private final Database database;

    /**
     * Accounts over a database migrated with {@link #MIGRATIONS}.
     *
     * @param database database
     */
    public Accounts(Database database) {
        this.database = database;
    }

    /**
     * Creates an account.
     *
     * @param phoneNumber  normalized phone number
     * @param passwordHash password hash
     * @return the new account
     * @throws io.grpc.StatusRuntimeException ALREADY_EXISTS when the number is taken
     */
    public Account create(String phoneNumber, String passwordHash) {
        Account account = new Account(UUID.randomUUID().toString(), phoneNumber, passwordHash, System.currentTimeMillis());
        try (Connection connection = database.dataSource().getConnection()) {
            PreparedStatement insert = database.prepared(
                    connection, "INSERT INTO users (id, phone_number, password_hash, created_at) VALUES (?, ?, ?, ?)");
            insert.setString(1, account.id());
            insert.setString(2, account.phoneNumber());
            insert.setString(3, account.passwordHash());
            insert.setLong(4, account.createdAt());
            insert.executeUpdate();
            return account;
        } catch (SQLException e) {
            if (isUniqueViolation(e)) {
                throw Status.ALREADY_EXISTS.withDescription("phoneNumber is already registered").asRuntimeException();
            }
            throw unavailable(e);
        }
    }

    /**
     * Replaces an account's password hash, unless it changed since it was read (another login upgraded it first).
     *
     * @param id      user id
     * @param oldHash the hash that was read
     * @param newHash the hash to store instead
     * @return whether it was replaced
     * @throws io.grpc.StatusRuntimeException UNAVAILABLE when the database fails
     */
    public boolean replacePasswordHash(String id, String oldHash, String newHash) {
        try (Connection connection = database.dataSource().getConnection()) {
            PreparedStatement update = database.prepared(
                    connection, "UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?");
            update.setString(1, newHash);
            update.setString(2, id);
            update.setString(3, oldHash);
            return update.executeUpdate() == 1;
        } catch (SQLException e) {
            throw unavailable(e);
        }
    }

    /**
     * The account with a phone number.
     *
     * @param phoneNumber normalized phone number
     * @return the account, if any
     */
    public Optional<Account> byPhoneNumber(String phoneNumber) {
        return one("SELECT id, phone_number, password_hash, created_at FROM users WHERE phone_number = ?", phoneNumber);
    }

    /**
     * The account with an id.
     *
     * @param id user id
     * @return the account, if any
     */
    public Optional<Account> byId(String id) {
        return one("SELECT id, phone_number, password_hash, created_at FROM users WHERE id = ?", id);
    }

    private Optional<Account> one(String sql, String parameter) {
        try (Connection connection = database.dataSource().getConnection()) {
            PreparedStatement query = database.prepared(connection, sql);
            query.setString(1, parameter);
            try (ResultSet rows = query.executeQuery()) {
                if (!rows.next()) {
                    return Optional.empty();
                }
                return Optional.of(new Account(rows.getString(1), rows.getString(2), rows.getString(3), rows.getLong(4)));
            }
        } catch (SQLException e) {
            throw unavailable(e);
        }
    }

    static boolean isUniqueViolation(SQLException e) {
        // PostgreSQL: SQLSTATE 23505; SQLite: SQLITE_CONSTRAINT_UNIQUE
        return "23505".equals(e.getSQLState()) || String.valueOf(e.getMessage()).contains("UNIQUE constraint failed");
    }

    static RuntimeException unavailable(SQLException e) {
        return Status.UNAVAILABLE.withDescription("database unavailable").withCause(e).asRuntimeException();
    }

    /**
     * A stored account.
     *
     * @param id           user id
     * @param phoneNumber  normalized phone number
     * @param passwordHash password hash
     * @param createdAt    creation time, epoch millis
     */
    public record Account(String id, String phoneNumber, String passwordHash, long createdAt) {
    }
}
