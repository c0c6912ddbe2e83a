package io.switchboard.tokens;

import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TokenVerifierUnitTest {

    @Test
    void followsAKeyRotationByKidAndStopsTrustingTheOldKey() throws Exception {
        ECKey first = key("first");
        ECKey second = key("second");
        AtomicReference<JWKSet> published = new AtomicReference<>(new JWKSet(first.toPublicJWK()));
        TokenVerifier verifier = new TokenVerifier(published::get, Duration.ofMillis(100));

        assertThat(verifier.verify(token(first, "first", "u1", 60)).userId()).isEqualTo("u1");
        published.set(new JWKSet(second.toPublicJWK()));
        Thread.sleep(150);
        assertThat(verifier.verify(token(second, "second", "u2", 60)).userId()).isEqualTo("u2");
        // a key the issuer no longer publishes is no longer trusted (user.extra-public-keys keeps one published)
        String old = token(first, "first", "u1", 60);
        assertThatThrownBy(() -> verifier.verify(old)).hasMessage("token signed by an unknown key");
    }

    @Test
    void anAuthorizationValueMustBeABearerTokenOfBoundedLength() throws Exception {
        ECKey key = key("k");
        TokenVerifier verifier = new TokenVerifier(() -> new JWKSet(key.toPublicJWK()));
        String token = token(key, "k", "u1", 60);

        assertThat(verifier.verifyAuthorization("Bearer " + token).userId()).isEqualTo("u1");
        assertThat(verifier.verifyAuthorization("bEARER   " + token + " ").userId()).isEqualTo("u1");
        for (String notBearer : new String[] {"", "Bearer", "Basic dTpw", token, "Bearer" + token}) {
            assertThatThrownBy(() -> verifier.verifyAuthorization(notBearer)).hasMessage("a bearer token is required");
        }
        String padded = "Bearer " + token + " ".repeat(4096 - 7 - token.length());
        assertThat(padded).hasSize(4096);
        assertThat(verifier.verifyAuthorization(padded).userId()).isEqualTo("u1");
        assertThatThrownBy(() -> verifier.verifyAuthorization(padded + " ")).hasMessage("token too long");
    }

    @Test
    void unknownKidsDoNotTurnIntoAFloodOfFetches() throws Exception {
        ECKey key = key("k");
        AtomicInteger fetches = new AtomicInteger();
        TokenVerifier verifier = new TokenVerifier(() -> {
            fetches.incrementAndGet();
            return new JWKSet(key.toPublicJWK());
        }, Duration.ofSeconds(5));
        for (int i = 0; i < 50; i++) {
            String forged = token(key("kid-" + i), "kid-" + i, "u", 60);
            assertThatThrownBy(() -> verifier.verify(forged)).hasMessage("token signed by an unknown key");
        }
        assertThat(fetches.get()).isEqualTo(1);
    }

    @Test
    void rejectsOtherAlgorithmsExpiredTokensAndOtherIssuers() throws Exception {
        ECKey key = key("k");
        TokenVerifier verifier = new TokenVerifier(() -> new JWKSet(key.toPublicJWK()));
        SignedJWT hmac = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("k").build(),
                                       claims("u", 60, TokenVerifier.ISSUER));
        hmac.sign(new MACSigner(new byte[32]));
        assertThatThrownBy(() -> verifier.verify(hmac.serialize())).hasMessage("unsupported token algorithm");
        assertThatThrownBy(() -> verifier.verify(token(key, "k", "u", -1))).hasMessage("token expired");
        SignedJWT foreign = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("k").build(),
                                          claims("u", 60, "someone-else"));
        foreign.sign(new ECDSASigner(key));
        assertThatThrownBy(() -> verifier.verify(foreign.serialize())).hasMessage("token from an unknown issuer");
    }

    @Test
    void saysSoWhenTheKeysCannotBeFetched() throws Exception {
        ECKey key = key("k");
        TokenVerifier verifier = new TokenVerifier(() -> {
            throw new IllegalStateException("user unreachable");
        });
        assertThatThrownBy(() -> verifier.verify(token(key, "k", "u", 60))).hasMessage("token keys unavailable");
    }

    private static ECKey key(String kid) throws Exception {
        return new ECKeyGenerator(Curve.P_256).keyID(kid).generate();
    }

    private static String token(ECKey key, String kid, String subject, long expiresInSeconds) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(kid).build(),
                                      claims(subject, expiresInSeconds, TokenVerifier.ISSUER));
        jwt.sign(new ECDSASigner(key));
        return jwt.serialize();
    }

    private static JWTClaimsSet claims(String subject, long expiresInSeconds, String issuer) {
        return new JWTClaimsSet.Builder().subject(subject).issuer(issuer)
                .expirationTime(Date.from(Instant.now().plusSeconds(expiresInSeconds))).build();
    }
}
