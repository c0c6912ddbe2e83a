package io.switchboard.tokens;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Date;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
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
        assertThatThrownBy(() -> verifier.verify(token(key, "k", "u", -60))).hasMessage("token expired");
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
        assertThatThrownBy(() -> verifier.verify(token(key, "k", "u", 60))).hasMessage("token keys unavailable")
                .matches(e -> ((TokenVerifier.InvalidTokenException) e).unavailable(), "unavailable, not bad");
    }

    @Test
    void aTokenWithoutAnIdIsRefused() throws Exception {
        ECKey key = key("k");
        TokenVerifier verifier = new TokenVerifier(() -> new JWKSet(key.toPublicJWK()));
        assertThat(outcome(verifier, signed(key, issued("u", 60, TokenVerifier.ISSUER).jwtID(null).build())))
                .isEqualTo("token has no id");
        assertThat(outcome(verifier, signed(key, issued("u", 60, TokenVerifier.ISSUER).jwtID(" ").build())))
                .isEqualTo("token has no id");
    }

    @Test
    void aRevokedTokenIsRefusedAndTheCallerNamesItsToken() throws Exception {
        ECKey key = key("k");
        List<RevokedTokens.Revoked> published = new CopyOnWriteArrayList<>();
        RevokedTokens revoked = RevokedTokens.from((since, after) -> new RevokedTokens.Page(
                published.stream().filter(r -> r.revokedAtMillis() >= since).toList(), false), Duration.ofSeconds(30));
        TokenVerifier verifier = new TokenVerifier(() -> new JWKSet(key.toPublicJWK()), TokenVerifier.REFRESH_INTERVAL,
                                                   Duration.ofSeconds(30), revoked);
        JWTClaimsSet claims = issued("u", 60, TokenVerifier.ISSUER).build();
        String token = signed(key, claims);
        String other = signed(key, issued("u", 60, TokenVerifier.ISSUER).build());

        Caller caller = verifier.verify(token);
        assertThat(caller.tokenId()).isEqualTo(claims.getJWTID());
        // a JWT's times are whole seconds
        assertThat(caller.expiresAt()).isEqualTo(claims.getExpirationTime().toInstant().truncatedTo(ChronoUnit.SECONDS));
        published.add(new RevokedTokens.Revoked(claims.getJWTID(), claims.getExpirationTime().getTime(),
                                                System.currentTimeMillis()));
        assertThat(outcome(verifier, token)).as("until the next sync").isEqualTo("u");
        revoked.sync();
        assertThat(outcome(verifier, token)).isEqualTo("token revoked");
        assertThat(outcome(verifier, other)).as("the user's other token").isEqualTo("u");
    }

    @Test
    void aVerifierThatNeverReadTheRevocationsRefusesEveryTokenAsUnavailable() throws Exception {
        ECKey key = key("k");
        AtomicBoolean up = new AtomicBoolean();
        RevokedTokens revoked = RevokedTokens.from((since, after) -> {
            if (!up.get()) {
                throw new IllegalStateException("user unreachable");
            }
            return new RevokedTokens.Page(List.of(), false);
        }, Duration.ofSeconds(30));
        TokenVerifier verifier = new TokenVerifier(() -> new JWKSet(key.toPublicJWK()), Duration.ofMillis(100),
                                                   Duration.ofSeconds(30), revoked);
        String token = token(key, "k", "u", 60);

        assertThatThrownBy(() -> verifier.verify(token)).hasMessage("token revocations unavailable")
                .matches(e -> ((TokenVerifier.InvalidTokenException) e).unavailable(), "unavailable, not bad");
        assertThat(verifier.prefetch()).isFalse();
        up.set(true);
        Thread.sleep(150);
        assertThat(verifier.prefetch()).isTrue();
        assertThat(outcome(verifier, token)).isEqualTo("u");
        // once read, a source that fails again leaves what was read in force
        up.set(false);
        assertThatThrownBy(revoked::sync).hasMessage("user unreachable");
        assertThat(outcome(verifier, token)).isEqualTo("u");
    }

    @Test
    void revocationsAreReadInPagesFromShortlyBeforeTheNewestSeenAndForgottenOnceTheirTokenExpired() {
        long now = System.currentTimeMillis();
        List<RevokedTokens.Revoked> rows = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            // several revocations in one millisecond: a page may end between them
            rows.add(new RevokedTokens.Revoked(String.format("t%02d", i), now + 60_000, now - 100_000 + i / 3));
        }
        List<String> asked = new CopyOnWriteArrayList<>();
        RevokedTokens.Source source = (since, after) -> {
            asked.add(since + "/" + after);
            List<RevokedTokens.Revoked> page = rows.stream()
                    .filter(r -> r.revokedAtMillis() > since
                                 || r.revokedAtMillis() == since && r.tokenId().compareTo(after) > 0)
                    .limit(11).toList();
            return new RevokedTokens.Page(page.subList(0, Math.min(10, page.size())), page.size() > 10);
        };
        RevokedTokens revoked = RevokedTokens.from(source, Duration.ofSeconds(30));
        revoked.sync();
        assertThat(revoked.size()).isEqualTo(25);
        assertThat(asked).hasSize(3);
        assertThat(asked.get(0)).isEqualTo("0/");
        assertThat(asked.get(1)).isEqualTo((now - 100_000 + 3) + "/t09");

        // a late commit stamped before the newest seen, within the overlap, is still read; its token expired
        // beyond the skew is forgotten
        asked.clear();
        rows.add(new RevokedTokens.Revoked("late", now + 60_000, now - 100_000 - 20_000));
        rows.add(new RevokedTokens.Revoked("expired", now - 31_000, now - 100_000 + 1));
        rows.sort(Comparator.comparingLong(RevokedTokens.Revoked::revokedAtMillis)
                          .thenComparing(RevokedTokens.Revoked::tokenId));
        revoked.sync();
        assertThat(asked.get(0)).isEqualTo((now - 100_000 + 8 - RevokedTokens.OVERLAP.toMillis()) + "/");
        assertThat(revoked.revoked("late")).isTrue();
        assertThat(revoked.revoked("expired")).isFalse();
        assertThat(revoked.size()).isEqualTo(26);
        // a token just expired is still remembered within the skew
        revoked.add("recent", now - 20_000);
        revoked.sync();
        assertThat(revoked.revoked("recent")).isTrue();
    }

    @Test
    void whileTheKeySourceIsDownOneFetchRunsAtATimeAndNoRequestWaitsForAnotherUntilItIsDue() throws Exception {
        ECKey key = key("k");
        AtomicInteger fetches = new AtomicInteger();
        AtomicBoolean up = new AtomicBoolean();
        TokenVerifier verifier = new TokenVerifier(() -> {
            fetches.incrementAndGet();
            try {
                // a key source that takes its time to fail, as a call does until its deadline
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (!up.get()) {
                throw new IllegalStateException("user unreachable");
            }
            return new JWKSet(key.toPublicJWK());
        }, Duration.ofSeconds(5));
        String token = token(key, "k", "u", 60);

        List<Future<String>> answers = new ArrayList<>();
        try (ExecutorService requests = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 20; i++) {
                answers.add(requests.submit(() -> outcome(verifier, token)));
            }
        }
        for (Future<String> answer : answers) {
            assertThat(answer.get()).isEqualTo("token keys unavailable");
        }
        assertThat(fetches.get()).as("20 requests at once, one fetch").isEqualTo(1);

        long start = System.nanoTime();
        assertThat(outcome(verifier, token)).isEqualTo("token keys unavailable");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("refused at once until a retry is due")
                .isLessThan(Duration.ofMillis(100));
        assertThat(fetches.get()).isEqualTo(1);

        up.set(true);
        Thread.sleep(TokenVerifier.RETRY_AFTER_FAILURE.toMillis());
        assertThat(outcome(verifier, token)).isEqualTo("u");
        assertThat(fetches.get()).isEqualTo(2);
    }

    @Test
    void aTokenMustBeForThePlatformIssuedInThePastAndValidNowWithinTheClockSkew() throws Exception {
        ECKey key = key("k");
        TokenVerifier verifier = new TokenVerifier(() -> new JWKSet(key.toPublicJWK()), TokenVerifier.REFRESH_INTERVAL,
                                                   Duration.ofSeconds(30), RevokedTokens.none());
        Instant now = Instant.now();

        assertThat(outcome(verifier, signed(key, issued("u", 60, TokenVerifier.ISSUER).build()))).isEqualTo("u");
        assertThat(outcome(verifier, signed(key, issued("u", 60, TokenVerifier.ISSUER).audience("billing").build())))
                .isEqualTo("token for another audience");
        assertThat(outcome(verifier, signed(key, issued("u", 60, TokenVerifier.ISSUER).audience((String) null).build())))
                .isEqualTo("token for another audience");
        assertThat(outcome(verifier, signed(key, issued("u", 60, TokenVerifier.ISSUER).issueTime(null).build())))
                .isEqualTo("token has no issue time");
        // the boundaries, each side of the 30 s skew
        assertThat(outcome(verifier, signed(key, issued("u", 600, TokenVerifier.ISSUER)
                .issueTime(Date.from(now.plusSeconds(25))).build()))).isEqualTo("u");
        assertThat(outcome(verifier, signed(key, issued("u", 600, TokenVerifier.ISSUER)
                .issueTime(Date.from(now.plusSeconds(40))).build()))).isEqualTo("token issued in the future");
        assertThat(outcome(verifier, signed(key, issued("u", 600, TokenVerifier.ISSUER)
                .notBeforeTime(Date.from(now.plusSeconds(25))).build()))).isEqualTo("u");
        assertThat(outcome(verifier, signed(key, issued("u", 600, TokenVerifier.ISSUER)
                .notBeforeTime(Date.from(now.plusSeconds(40))).build()))).isEqualTo("token not valid yet");
        assertThat(outcome(verifier, signed(key, issued("u", 600, TokenVerifier.ISSUER)
                .expirationTime(Date.from(now.minusSeconds(25))).build()))).isEqualTo("u");
        assertThat(outcome(verifier, signed(key, issued("u", 600, TokenVerifier.ISSUER)
                .expirationTime(Date.from(now.minusSeconds(40))).build()))).isEqualTo("token expired");
        assertThat(outcome(verifier, signed(key, issued("u", 600, TokenVerifier.ISSUER).expirationTime(null).build())))
                .isEqualTo("token expired");
    }

    @Test
    void theClockSkewIsBounded() {
        assertThatThrownBy(() -> new TokenVerifier(JWKSet::new, TokenVerifier.REFRESH_INTERVAL, Duration.ofSeconds(-1),
                                                       RevokedTokens.none()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tokens.clock-skew");
        assertThatThrownBy(() -> new TokenVerifier(JWKSet::new, TokenVerifier.REFRESH_INTERVAL, Duration.ofMinutes(6),
                                                       RevokedTokens.none()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tokens.clock-skew");
        new TokenVerifier(JWKSet::new, TokenVerifier.REFRESH_INTERVAL, Duration.ofMinutes(5), RevokedTokens.none());
        new TokenVerifier(JWKSet::new, TokenVerifier.REFRESH_INTERVAL, Duration.ZERO, RevokedTokens.none());
    }

    private static String outcome(TokenVerifier verifier, String token) {
        try {
            return verifier.verify(token).userId();
        } catch (TokenVerifier.InvalidTokenException e) {
            return e.getMessage();
        }
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
        return issued(subject, expiresInSeconds, issuer).build();
    }

    /* the claims the user service's TokenIssuer sets */
    private static JWTClaimsSet.Builder issued(String subject, long expiresInSeconds, String issuer) {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder().subject(subject).issuer(issuer).audience(TokenVerifier.AUDIENCE)
                .issueTime(Date.from(now)).notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(expiresInSeconds))).jwtID(UUID.randomUUID().toString());
    }

    private static String signed(ECKey key, JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID()).build(), claims);
        jwt.sign(new ECDSASigner(key));
        return jwt.serialize();
    }
}
