package io.switchboard.tokens;

import java.lang.System.Logger.Level;
import java.text.ParseException;
import java.time.Duration;
import java.util.Date;
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
 * {@value #ISSUER}, not expired, with a subject.
 * <p>
 * Keys are cached by {@code kid}. A token signed with a key not in the cache makes the verifier fetch the set
 * again (at most once per refresh interval, {@link #REFRESH_INTERVAL} by default), so a key rotation is followed
 * without a restart and a flood of forged {@code kid}s cannot turn into a flood of fetches. Thread safe.
 */
public final class TokenVerifier {
    /** The issuer of every token. */
    public static final String ISSUER = "switchboard-user";
    /** Default shortest time between two fetches of the key set. */
    public static final Duration REFRESH_INTERVAL = Duration.ofSeconds(5);

    private static final System.Logger LOG = System.getLogger(TokenVerifier.class.getName());
    private static final String BEARER = "Bearer ";
    /* Our tokens are about 300 characters; nothing longer is worth parsing. */
    private static final int MAX_AUTHORIZATION = 4096;

    private final Supplier<JWKSet> source;
    private final long refreshNanos;
    private volatile JWKSet keys = new JWKSet();
    private volatile long fetchedNanos;
    private volatile boolean fetched;

    /**
     * A verifier over a key source.
     *
     * @param source fetches the current JWK set (public keys); may throw when unreachable
     */
    public TokenVerifier(Supplier<JWKSet> source) {
        this(source, REFRESH_INTERVAL);
    }

    /**
     * A verifier over a key source, fetching it at most once per interval.
     *
     * @param source          fetches the current JWK set (public keys); may throw when unreachable
     * @param refreshInterval shortest time between two fetches
     */
    public TokenVerifier(Supplier<JWKSet> source, Duration refreshInterval) {
        this.source = source;
        this.refreshNanos = refreshInterval.toNanos();
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
            Date expiry = claims.getExpirationTime();
            if (expiry == null || expiry.getTime() <= System.currentTimeMillis()) {
                throw new InvalidTokenException("token expired");
            }
            if (!ISSUER.equals(claims.getIssuer())) {
                throw new InvalidTokenException("token from an unknown issuer");
            }
            if (claims.getSubject() == null || claims.getSubject().isBlank()) {
                throw new InvalidTokenException("token has no subject");
            }
            return new Caller(claims.getSubject());
        } catch (JOSEException | ParseException e) {
            throw new InvalidTokenException("bad token signature");
        }
    }

    private ECKey key(String kid) throws InvalidTokenException {
        JWK key = keys.getKeyByKeyId(kid);
        if (key == null && refreshAllowed()) {
            refresh();
            key = keys.getKeyByKeyId(kid);
        }
        if (key == null) {
            throw new InvalidTokenException(fetched ? "token signed by an unknown key" : "token keys unavailable");
        }
        if (!(key instanceof ECKey ec)) {
            throw new InvalidTokenException("token signed by an unknown key");
        }
        return ec;
    }

    private synchronized boolean refreshAllowed() {
        long now = System.nanoTime();
        if (fetched && now - fetchedNanos < refreshNanos) {
            return false;
        }
        fetchedNanos = now;
        return true;
    }

    private void refresh() {
        try {
            keys = source.get().toPublicJWKSet();
            fetched = true;
        } catch (RuntimeException e) {
            fetched = false;
            LOG.log(Level.WARNING, "cannot fetch token keys: " + e.getMessage());
        }
    }

    /**
     * A token that does not verify; the message is safe to return to the client.
     */
    public static final class InvalidTokenException extends Exception {
        private static final long serialVersionUID = 1L;

        InvalidTokenException(String message) {
            super(message, null, false, false);
        }
    }
}
