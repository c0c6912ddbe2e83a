package io.switchboard.user.tokens;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import io.helidon.config.Config;
import io.switchboard.identity.OwnerOnlyFile;

/**
 * The user service's ES256 signing key, which only this service holds, and the public keys it publishes.
 * <p>
 * The key comes from {@code user.signing-key} (a private EC P-256 key, for example from a Kubernetes Secret) or
 * {@code user.signing-key-file}, either as a JWK in JSON or in PEM (PKCS#8 {@code PRIVATE KEY} or SEC1
 * {@code EC PRIVATE KEY}, as {@code openssl} and Helm's {@code genPrivateKey "ecdsa"} write it; its {@code kid} is
 * then its RFC 7638 thumbprint, the same for every replica given that key). When neither is set, one is generated once and kept at
 * {@code <data.dir>/user-signing-key.json} (mode 600 from its creation on) so that tokens survive a restart. For a rotation,
 * {@code user.extra-public-keys} (a JWK set in JSON) publishes old public keys next to the current one, so that
 * tokens signed before the rotation still verify until they expire.
 */
public final class SigningKeys {
    private static final System.Logger LOG = System.getLogger(SigningKeys.class.getName());

    private final ECKey signing;
    private final JWKSet published;

    private SigningKeys(ECKey signing, List<JWK> extraPublic) {
        this.signing = signing;
        List<JWK> keys = new ArrayList<>();
        keys.add(signing.toPublicJWK());
        extraPublic.stream().map(JWK::toPublicJWK).filter(k -> !k.getKeyID().equals(signing.getKeyID())).forEach(keys::add);
        this.published = new JWKSet(keys);
    }

    /**
     * Loads or generates the keys.
     *
     * @param config  the {@code user} node
     * @param dataDir where a generated key is kept
     * @return the keys
     */
    public static SigningKeys load(Config config, Path dataDir) {
        List<JWK> extra = config.get("extra-public-keys").asString().map(SigningKeys::parseSet).orElse(List.of());
        String inline = config.get("signing-key").asString().filter(s -> !s.isBlank()).orElse(null);
        if (inline != null) {
            return new SigningKeys(parseKey(inline, "user.signing-key"), extra);
        }
        Path file = config.get("signing-key-file").asString().map(Path::of).orElse(null);
        if (file != null) {
            return new SigningKeys(parseKey(read(file), file.toString()), extra);
        }
        Path generated = dataDir.resolve("user-signing-key.json");
        if (Files.exists(generated)) {
            return new SigningKeys(parseKey(read(generated), generated.toString()), extra);
        }
        ECKey key = generate();
        write(generated, key.toJSONString());
        LOG.log(Level.WARNING, "no signing key configured (user.signing-key or user.signing-key-file): generated "
                               + key.getKeyID() + " and kept it in " + generated + "; tokens survive restarts but not"
                               + " the loss of that file");
        return new SigningKeys(key, extra);
    }

    /**
     * The private signing key.
     *
     * @return the key, with its {@code kid}
     */
    public ECKey signing() {
        return signing;
    }

    /**
     * The public keys that verify this service's tokens.
     *
     * @return a public JWK set
     */
    public JWKSet publicSet() {
        return published;
    }

    /**
     * A fresh P-256 signing key with a random {@code kid}.
     *
     * @return the key
     */
    public static ECKey generate() {
        try {
            return new ECKeyGenerator(Curve.P_256).keyUse(KeyUse.SIGNATURE).algorithm(JWSAlgorithm.ES256)
                    .keyID(UUID.randomUUID().toString()).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException("cannot generate an EC key", e);
        }
    }

    private static ECKey parseKey(String text, String source) {
        String trimmed = text.strip();
        JWK jwk = trimmed.startsWith("-----BEGIN") ? parsePem(trimmed, source) : parseJson(trimmed, source);
        if (!(jwk instanceof ECKey ec) || !ec.isPrivate() || !Curve.P_256.equals(ec.getCurve()) || ec.getKeyID() == null) {
            throw new IllegalStateException(source + " must be a private EC P-256 key (a JWK with a kid, or PEM)");
        }
        return ec;
    }

    private static JWK parseJson(String json, String source) {
        try {
            return JWK.parse(json);
        } catch (ParseException e) {
            throw new IllegalStateException(source + " is not a JWK: " + e.getMessage());
        }
    }

    private static JWK parsePem(String pem, String source) {
        try {
            return PemKeys.parse(pem);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(source + ": " + e.getMessage());
        }
    }

    private static List<JWK> parseSet(String json) {
        try {
            return JWKSet.parse(json).getKeys();
        } catch (ParseException e) {
            throw new IllegalStateException("user.extra-public-keys is not a JWK set: " + e.getMessage());
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the signing key " + file, e);
        }
    }

    private static void write(Path file, String json) {
        try {
            OwnerOnlyFile.write(file, json);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot keep the generated signing key in " + file, e);
        }
    }
}
