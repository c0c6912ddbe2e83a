package io.switchboard.tokens;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The tokens revoked before they expire (by {@code POST /user/logout}), as one verifier knows them. A sync reads the
 * revocations of a source ({@code ListRevokedTokens} on user) a page at a time, from {@link #OVERLAP} before the newest
 * one it has seen: a revocation committed late, or stamped by a user instance whose clock is behind, is still read.
 * A token is remembered until it expires (with the clock skew verifiers allow), so memory follows the revocations of
 * one token lifetime. Thread safe.
 */
public final class RevokedTokens {
    /** How far before the newest revocation seen each sync reads again. */
    public static final Duration OVERLAP = Duration.ofSeconds(30);
    /* a sync that keeps getting full pages stops after this many and goes on at the next */
    private static final int MAX_PAGES = 100;

    private final Source source;
    private final long skewMillis;
    private final ConcurrentHashMap<String, Long> expiries = new ConcurrentHashMap<>();
    private final Object syncing = new Object();
    /* guarded by syncing: the newest revocation time read */
    private long newestMillis;
    private volatile boolean synced;

    private RevokedTokens(Source source, Duration clockSkew, boolean synced) {
        this.source = source;
        this.skewMillis = clockSkew.toMillis();
        this.synced = synced;
    }

    /**
     * Revocations read from a source; none are known before the first {@link #sync()}.
     *
     * @param source    where revocations are read
     * @param clockSkew how long past its expiry a token is still remembered: the skew verifiers allow
     * @return the revocations
     */
    public static RevokedTokens from(Source source, Duration clockSkew) {
        return new RevokedTokens(source, clockSkew, false);
    }

    /**
     * No revocations and no source: for verifiers in tests and tools that are never told of a logout.
     *
     * @return an empty set, already synced
     */
    public static RevokedTokens none() {
        return new RevokedTokens((since, after) -> new Page(List.of(), false), Duration.ZERO, true);
    }

    /**
     * Whether a token was revoked.
     *
     * @param tokenId its {@code jti}
     * @return whether it was revoked and may not be used
     */
    public boolean revoked(String tokenId) {
        return expiries.containsKey(tokenId);
    }

    /**
     * Whether a sync has succeeded: until then, what this set holds says nothing.
     *
     * @return whether synced once
     */
    public boolean synced() {
        return synced;
    }

    /**
     * How many revoked tokens are remembered.
     *
     * @return the count
     */
    public int size() {
        return expiries.size();
    }

    /**
     * Remembers a revocation at once, before any sync reads it (the instance that revoked it).
     *
     * @param tokenId         its {@code jti}
     * @param expiresAtMillis when the token expires
     */
    public void add(String tokenId, long expiresAtMillis) {
        expiries.put(tokenId, expiresAtMillis);
    }

    /**
     * Reads the revocations since shortly before the newest one seen, and forgets the tokens that have expired.
     *
     * @throws RuntimeException when the source fails; what was read before it failed is kept
     */
    public void sync() {
        synchronized (syncing) {
            long since = Math.max(0, newestMillis - OVERLAP.toMillis());
            String after = "";
            Page page;
            int pages = 0;
            do {
                page = source.since(since, after);
                for (Revoked token : page.tokens()) {
                    expiries.put(token.tokenId(), token.expiresAtMillis());
                    since = token.revokedAtMillis();
                    after = token.tokenId();
                    newestMillis = Math.max(newestMillis, token.revokedAtMillis());
                }
            } while (page.more() && !page.tokens().isEmpty() && ++pages < MAX_PAGES);
            long now = System.currentTimeMillis();
            expiries.values().removeIf(expiry -> expiry + skewMillis < now);
            synced = true;
        }
    }

    /**
     * Where revocations are read.
     */
    @FunctionalInterface
    public interface Source {
        /**
         * A page of revocations, ordered by time then token id.
         *
         * @param sinceMillis  revocations at or after this time
         * @param afterTokenId within {@code sinceMillis}, only token ids after this one ({@code ""}: all)
         * @return the page
         */
        Page since(long sinceMillis, String afterTokenId);
    }

    /**
     * A revoked token.
     *
     * @param tokenId         its {@code jti}
     * @param expiresAtMillis when it expires
     * @param revokedAtMillis when it was revoked
     */
    public record Revoked(String tokenId, long expiresAtMillis, long revokedAtMillis) {
    }

    /**
     * A page of revocations.
     *
     * @param tokens the revocations
     * @param more   whether more follow the last one
     */
    public record Page(List<Revoked> tokens, boolean more) {
    }
}
