package io.switchboard.tokens;

import java.lang.System.Logger.Level;
import java.text.ParseException;
import java.time.Duration;
import java.util.Date;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

/**
 * Verifies the tokens the user service issues: ES256 only, signed by a key of the published JWK set, issued by
 * {@value #ISSUER} for {@value #AUDIENCE}, with a subject, an issue time not in the future, not expired and not used
 * before its {@code nbf}; the times are compared with a clock skew allowed between the issuer's clock and this one
 * ({@link #CLOCK_SKEW} by default, {@code tokens.clock-skew}).
 * <p>
 * Keys are cached by {@code kid}. A token signed with a key not in the cache makes the verifier fetch the set
 * again (at most once per refresh interval, {@link #REFRESH_INTERVAL} by default), so a key rotation is followed
 * without a restart and a flood of forged {@code kid}s cannot turn into a flood of fetches. One fetch runs at a time:
 * the requests that need it meanwhile wait for it rather than fetch too. After a failed fetch the next is tried no
 * sooner than {@link #RETRY_AFTER_FAILURE}: until then a token of an unknown key is refused at once ("token keys
 * unavailable"), instead of every request waiting for a key source that is down.
 * <p>
 * A token revoked by a logout ({@link RevokedTokens}) is refused. A verifier that has never read the revocations
 * reads them with its first key fetch, and refuses every token until it could: it cannot tell a revoked one. A
 * refusal because keys or revocations cannot be read is {@link InvalidTokenException#unavailable()}: the token may
 * be good, the client should try again rather than log in again. Thread safe.
 */
public final class TokenVerifier {
    /** The issuer of every token. */
    public static final String ISSUER = "switchboard-user";
    /** The audience of every token: the platform's API, whichever service serves the call. */
    public static final String AUDIENCE = "switchboard";
    /** Default difference allowed between the issuer's clock and the verifier's. */
    public static final Duration CLOCK_SKEW = Duration.ofSeconds(30);
    /** Default shortest time between two fetches of the key set. */
    public static final Duration REFRESH_INTERVAL = Duration.ofSeconds(5);
    /** Shortest time between a failed fetch of the key set and the next (or the refresh interval, if shorter). */
    public static final Duration RETRY_AFTER_FAILURE = Duration.ofSeconds(1);

    private static final System.Logger LOG = System.getLogger(TokenVerifier.class.getName());
    private static final String BEARER = "Bearer ";
    /* Our tokens are about 300 characters; nothing longer is worth parsing. */
    private static final int MAX_AUTHORIZATION = 4096;

    private final Supplier<JWKSet> source;
    private final RevokedTokens revoked;
    private final long refreshNanos;
    private final long retryNanos;
    private final long skewMillis;
    private volatile JWKSet keys = new JWKSet();
    /* guarded by this: when the next fetch may start, and the fetch running now (null when none) */
    private long nextFetchNanos;
    private CompletableFuture<Void> fetching;
    /* whether the last fetch failed; read without the lock (a key lookup only waits for a fetch that is due) */
    private volatile boolean failing;

    /**
     * A verifier over a key source that knows no revocations ({@link RevokedTokens#none()}).
     *
     * @param source fetches the current JWK set (public keys); may throw when unreachable
     */
    public TokenVerifier(Supplier<JWKSet> source) {
        this(source, REFRESH_INTERVAL);
    }

    /**
     * A verifier over a key source that knows no revocations ({@link RevokedTokens#none()}), fetching it at most once
     * per interval.
     *
     * @param source          fetches the current JWK set (public keys); may throw when unreachable
     * @param refreshInterval shortest time between two fetches
     */
    public TokenVerifier(Supplier<JWKSet> source, Duration refreshInterval) {
        this(source, refreshInterval, CLOCK_SKEW, RevokedTokens.none());
    }

    /**
     * A verifier over a key source and the revoked tokens, fetching the keys at most once per interval, allowing a
     * clock skew.
     *
     * @param source          fetches the current JWK set (public keys); may throw when unreachable
     * @param refreshInterval shortest time between two fetches
     * @param clockSkew       difference allowed between the issuer's clock and this one, 0 to 5 minutes
     * @param revoked         the revoked tokens; synced with the first key fetch when they never were
     * @throws IllegalArgumentException when the skew is negative or over 5 minutes
     */
    public TokenVerifier(Supplier<JWKSet> source, Duration refreshInterval, Duration clockSkew, RevokedTokens revoked) {
        this.revoked = revoked;
        if (clockSkew.isNegative() || clockSkew.compareTo(Duration.ofMinutes(5)) > 0) {
            throw new IllegalArgumentException("tokens.clock-skew must be 0 to 5 minutes, got " + clockSkew);
        }
        this.skewMillis = clockSkew.toMillis();
        this.source = source;
        this.refreshNanos = refreshInterval.toNanos();
        this.retryNanos = Math.min(refreshNanos, RETRY_AFTER_FAILURE.toNanos());
        this.nextFetchNanos = System.nanoTime();
    }

    /**
     * Verifies the token of an {@code Authorization} value: {@code Bearer <token>}, the scheme in any case.
     *
     * @param authorization the header or metadata value
     * @return the caller
     * @throws InvalidTokenException when it is not a bearer token, is too long, or the token is not valid
     */
    public Caller verifyAuthorization(String authorization) throws InvalidTokenException {
        if (!authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            throw new InvalidTokenException("a bearer token is required");
        }
        if (authorization.length() > MAX_AUTHORIZATION) {
            throw new InvalidTokenException("token too long");
        }
        return verify(authorization.substring(BEARER.length()).trim());
    }

    /**
     * Verifies a token.
     *
     * @param token compact JWS
     * @return the caller
     * @throws InvalidTokenException with a reason safe to show the client
     */
    public Caller verify(String token) throws InvalidTokenException {
        SignedJWT jwt;
        try {
            jwt = SignedJWT.parse(token);
        } catch (ParseException e) {
            throw new InvalidTokenException("malformed token");
        }
        if (!JWSAlgorithm.ES256.equals(jwt.getHeader().getAlgorithm())) {
            throw new InvalidTokenException("unsupported token algorithm");
        }
        String kid = jwt.getHeader().getKeyID();
        if (kid == null) {
            throw new InvalidTokenException("token has no key id");
        }
        ECKey key = key(kid);
        try {
            if (!jwt.verify(new ECDSAVerifier(key))) {
                throw new InvalidTokenException("bad token signature");
            }
            JWTClaimsSet claims = jwt.getJWTClaimsSet();
            long now = System.currentTimeMillis();
            Date expiry = claims.getExpirationTime();
            if (expiry == null || expiry.getTime() + skewMillis <= now) {
                throw new InvalidTokenException("token expired");
            }
            if (!ISSUER.equals(claims.getIssuer())) {
                throw new InvalidTokenException("token from an unknown issuer");
            }
            if (claims.getAudience() == null || !claims.getAudience().contains(AUDIENCE)) {
                throw new InvalidTokenException("token for another audience");
            }
            Date issued = claims.getIssueTime();
            if (issued == null || issued.getTime() - skewMillis > now) {
                throw new InvalidTokenException(issued == null ? "token has no issue time" : "token issued in the future");
            }
            Date notBefore = claims.getNotBeforeTime();
            if (notBefore != null && notBefore.getTime() - skewMillis > now) {
                throw new InvalidTokenException("token not valid yet");
            }
            if (claims.getSubject() == null || claims.getSubject().isBlank()) {
                throw new InvalidTokenException("token has no subject");
            }
            String tokenId = claims.getJWTID();
            if (tokenId == null || tokenId.isBlank()) {
                throw new InvalidTokenException("token has no id");
            }
            if (!revoked.synced()) {
                awaitFetch();
                if (!revoked.synced()) {
                    throw new InvalidTokenException("token revocations unavailable", true);
                }
            }
            if (revoked.revoked(tokenId)) {
                throw new InvalidTokenException("token revoked");
            }
            return new Caller(claims.getSubject(), tokenId, expiry.toInstant());
        } catch (JOSEException | ParseException e) {
            throw new InvalidTokenException("bad token signature");
        }
    }

    private ECKey key(String kid) throws InvalidTokenException {
        JWK key = keys.getKeyByKeyId(kid);
        if (key == null) {
            awaitFetch();
            key = keys.getKeyByKeyId(kid);
        }
        if (key == null) {
            if (failing) {
                throw new InvalidTokenException("token keys unavailable", true);
            }
            throw new InvalidTokenException("token signed by an unknown key");
        }
        if (!(key instanceof ECKey ec)) {
            throw new InvalidTokenException("token signed by an unknown key");
        }
        return ec;
    }

    /* Fetches the key set when a fetch is due, or waits for the one running; returns at once otherwise. */
    private void awaitFetch() {
        CompletableFuture<Void> fetch;
        synchronized (this) {
            if (fetching != null) {
                fetch = fetching;
            } else if (System.nanoTime() - nextFetchNanos < 0) {
                return;
            } else {
                fetching = new CompletableFuture<>();
                fetch = null;
            }
        }
        if (fetch != null) {
            fetch.join();
            return;
        }
        boolean ok = false;
        String failure = null;
        try {
            keys = source.get().toPublicJWKSet();
            if (!revoked.synced()) {
                revoked.sync();
            }
            ok = true;
        } catch (RuntimeException e) {
            failure = e.getMessage();
        } finally {
            CompletableFuture<Void> done;
            boolean firstFailure;
            boolean recovered;
            synchronized (this) {
                nextFetchNanos = System.nanoTime() + (ok ? refreshNanos : retryNanos);
                firstFailure = !ok && !failing;
                recovered = ok && failing;
                failing = !ok;
                done = fetching;
                fetching = null;
            }
            done.complete(null);
            // one line when the key source fails, one when it answers again: not one per request
            if (firstFailure) {
                LOG.log(Level.WARNING, "cannot fetch token keys or revocations (" + failure + "); tokens of keys not "
                                       + "cached are refused until a fetch succeeds, tried at most every "
                                       + Duration.ofNanos(retryNanos).toMillis() + " ms");
            } else if (recovered) {
                LOG.log(Level.INFO, "token keys fetched again");
            }
        }
    }

    /**
     * Fetches the keys, and the revocations if they were never read, when a fetch is due: what a verifier does
     * ahead of the first token, so that it need not wait for them.
     *
     * @return whether keys and revocations are known now
     */
    public boolean prefetch() {
        if (keys.getKeys().isEmpty() || !revoked.synced()) {
            awaitFetch();
        }
        return !keys.getKeys().isEmpty() && revoked.synced();
    }

    /**
     * The revoked tokens this verifier refuses.
     *
     * @return the revocations
     */
    public RevokedTokens revoked() {
        return revoked;
    }

    /**
     * A token that does not verify; the message is safe to return to the client.
     */
    public static final class InvalidTokenException extends Exception {
        private static final long serialVersionUID = 1L;
        /* whether the token could not be checked, rather than found bad */
        private final boolean unavailable;

        InvalidTokenException(String message) {
            this(message, false);
        }

        InvalidTokenException(String message, boolean unavailable) {
            super(message, null, false, false);
            this.unavailable = unavailable;
        }

        /**
         * Whether the token could not be checked (keys or revocations unreadable) rather than found bad: the
         * answer is UNAVAILABLE (503), to try again, not UNAUTHENTICATED (401), to log in again.
         *
         * @return whether unavailable
         */
        public boolean unavailable() {
            return unavailable;
        }
    }
}
