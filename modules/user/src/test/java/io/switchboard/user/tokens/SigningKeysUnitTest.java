package io.switchboard.user.tokens;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SigningKeysUnitTest {
    // openssl ecparam -name prime256v1 -genkey -noout: the SEC1 form Helm's genPrivateKey "ecdsa" writes
    private static final String SEC1 = """
            -----BEGIN EC PRIVATE KEY-----
            MHcCAQEEIBzQ2MZUthqFrr+rUeSH+BNADknQ1NuJ++syCAmnyWjAoAoGCCqGSM49
            AwEHoUQDQgAEcDQtEDWpzRqfL8KCGqlHEkSHGsyPY09Q7cHr2rBdSPua+hHFrBRc
            iaThNlZDyToV9Lsb++aXptLc23MsD3zjsw==
            -----END EC PRIVATE KEY-----
            """;
    // the same key through openssl pkcs8 -topk8 -nocrypt
    private static final String PKCS8 = """
            -----BEGIN PRIVATE KEY-----
            MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgHNDYxlS2GoWuv6tR
            5If4E0AOSdDU24n76zIICafJaMChRANCAARwNC0QNanNGp8vwoIaqUcSRIcazI9j
            T1DtwevasF1I+5r6EcWsFFyJpOE2VkPJOhX0uxv75pem0tzbcywPfOOz
            -----END PRIVATE KEY-----
            """;
    private static final String P384 = """
            -----BEGIN EC PRIVATE KEY-----
            MIGkAgEBBDB1e7iHYMjY6JqyqWvEe20jiClSMz+if9Gd6nCt5BT8OTeOHoJxPHYQ
            OH/eeCB0M66gBwYFK4EEACKhZANiAAQFCjzsKnwtGwRmKJMJ+r14kmlZeIPD4U0o
            oT9qwPu1DmQqVK8qWH1Cz+XWG80bQeavI0JAUnmR1tf35UKxa6bZNFOC4MGWu5XK
            OZHsioTaIemJiZHEtefZNxUnCgE7syA=
            -----END EC PRIVATE KEY-----
            """;

    @TempDir
    Path dataDir;

    @Test
    void sec1PemKeySignsTokensThatItsPublishedKeyVerifies() throws Exception {
        SigningKeys keys = SigningKeys.load(user(Map.of("signing-key", SEC1)), dataDir);

        ECKey signing = keys.signing();
        assertThat(signing.isPrivate()).isTrue();
        assertThat(signing.getCurve()).isEqualTo(Curve.P_256);
        assertThat(signing.getKeyID()).isEqualTo(signing.computeThumbprint().toString());
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(signing.getKeyID()).build(),
                                      new JWTClaimsSet.Builder().subject("42").build());
        jwt.sign(new ECDSASigner(signing));
        ECKey published = (ECKey) keys.publicSet().getKeyByKeyId(signing.getKeyID());
        assertThat(published.isPrivate()).isFalse();
        assertThat(jwt.verify(new ECDSAVerifier(published))).isTrue();
        assertThat(dataDir).isEmptyDirectory();
    }

    @Test
    void pkcs8PemFileGivesTheSameKeyAndKidAsSec1() throws Exception {
        Path file = Files.writeString(dataDir.resolve("key.pem"), PKCS8);

        ECKey fromFile = SigningKeys.load(user(Map.of("signing-key-file", file.toString())), dataDir).signing();
        ECKey fromSec1 = SigningKeys.load(user(Map.of("signing-key", SEC1)), dataDir).signing();

        assertThat(fromFile.getKeyID()).isEqualTo(fromSec1.getKeyID());
        assertThat(fromFile.toECPrivateKey().getS()).isEqualTo(fromSec1.toECPrivateKey().getS());
        assertThat(fromFile.toPublicJWK()).isEqualTo(fromSec1.toPublicJWK());
    }

    @Test
    void jwkJsonStillWorksAndKeepsItsKid() {
        ECKey jwk = SigningKeys.generate();

        assertThat(SigningKeys.load(user(Map.of("signing-key", jwk.toJSONString())), dataDir).signing()).isEqualTo(jwk);
    }

    @Test
    void keysThatAreNotPrivateP256AreRefusedNamingTheirSource() {
        assertThatThrownBy(() -> SigningKeys.load(user(Map.of("signing-key", P384)), dataDir))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("user.signing-key").hasMessageContaining("P-256");
        String publicOnly = SigningKeys.generate().toPublicJWK().toJSONString();
        assertThatThrownBy(() -> SigningKeys.load(user(Map.of("signing-key", publicOnly)), dataDir))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("private EC P-256");
        assertThatThrownBy(() -> SigningKeys.load(user(Map.of("signing-key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")), dataDir))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("user.signing-key");
    }

    private static Config user(Map<String, String> keys) {
        return Config.just(ConfigSources.create(keys));
    }
}
