package io.switchboard.user.tokens;

import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.UUID;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.switchboard.tokens.TokenVerifier;

/**
 * Issues ES256 JWTs: subject the user id, issuer {@value TokenVerifier#ISSUER}, expiry, a unique id, and the
 * signing key's {@code kid} in the header. Thread safe.
 */
public final class TokenIssuer {
    private final SigningKeys keys;
    private final Duration ttl;
    private final ECDSASigner signer;

    /**
     * An issuer.
     *
     * @param keys signing keys
     * @param ttl  token lifetime
     */
    public TokenIssuer(SigningKeys keys, Duration ttl) {
        this.keys = keys;
        this.ttl = ttl;
        try {
            this.signer = new ECDSASigner(keys.signing());
        } catch (JOSEException e) {
            throw new IllegalStateException("unusable signing key", e);
        }
    }

    /**
     * A token for a user.
     *
     * @param userId the subject
     * @return the token and its expiry
     */
    public Issued issue(String userId) {
        Instant now = Instant.now();
        Instant expiry = now.plus(ttl);
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256)
                                              .keyID(keys.signing().getKeyID())
                                              .type(JOSEObjectType.JWT)
                                              .build(),
                                      new JWTClaimsSet.Builder()
                                              .subject(userId)
                                              .issuer(TokenVerifier.ISSUER)
                                              .audience(TokenVerifier.AUDIENCE)
                                              .issueTime(Date.from(now))
                                              .notBeforeTime(Date.from(now))
                                              .expirationTime(Date.from(expiry))
                                              .jwtID(UUID.randomUUID().toString())
                                              .build());
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalStateException("cannot sign a token", e);
        }
        return new Issued(jwt.serialize(), expiry);
    }

    /**
     * An issued token.
     *
     * @param token     compact JWS
     * @param expiresAt expiry
     */
    public record Issued(String token, Instant expiresAt) {
    }
}
