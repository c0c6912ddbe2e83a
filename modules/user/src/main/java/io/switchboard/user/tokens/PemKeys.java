package io.switchboard.user.tokens;

import java.io.IOException;
import java.io.StringReader;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.PKCS8EncodedKeySpec;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.KeyUse;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.math.ec.FixedPointCombMultiplier;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;

/**
 * Reads a private EC P-256 key in PEM: PKCS#8 ({@code PRIVATE KEY}) or SEC1 ({@code EC PRIVATE KEY}, what Helm's
 * {@code genPrivateKey "ecdsa"} and {@code openssl ecparam -genkey} write). Stateless.
 */
final class PemKeys {
    private PemKeys() {
    }

    /**
     * Parses the key and derives its public half, which a PKCS#8 key need not carry.
     *
     * @param pem the PEM text
     * @return the private JWK, for ES256 signing, its {@code kid} the RFC 7638 thumbprint (a PEM key has no id,
     *         and the thumbprint is the one every replica given the key derives alike)
     * @throws IllegalArgumentException when the text holds no private EC P-256 key
     */
    static ECKey parse(String pem) {
        ECPrivateKey privateKey = privateKey(pem);
        if (!Curve.P_256.equals(Curve.forECParameterSpec(privateKey.getParams()))) {
            throw new IllegalArgumentException("the PEM key is not on curve P-256");
        }
        try {
            return new ECKey.Builder(Curve.P_256, publicKey(privateKey)).privateKey(privateKey).keyUse(KeyUse.SIGNATURE)
                    .algorithm(JWSAlgorithm.ES256).keyIDFromThumbprint().build();
        } catch (JOSEException e) {
            throw new IllegalArgumentException("cannot compute the key's thumbprint: " + e.getMessage());
        }
    }

    private static ECPrivateKey privateKey(String pem) {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            PrivateKeyInfo info = switch (parser.readObject()) {
                case PEMKeyPair pair -> pair.getPrivateKeyInfo();
                case PrivateKeyInfo plain -> plain;
                case null, default -> throw new IllegalArgumentException(
                        "no unencrypted private key in the PEM text (PRIVATE KEY or EC PRIVATE KEY)");
            };
            return (ECPrivateKey) KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
        } catch (IOException | GeneralSecurityException | IllegalStateException e) {
            throw new IllegalArgumentException("not a readable EC private key in PEM: " + e.getMessage());
        }
    }

    private static ECPublicKey publicKey(ECPrivateKey privateKey) {
        X9ECParameters p256 = ECNamedCurveTable.getByName("P-256");
        org.bouncycastle.math.ec.ECPoint q = new FixedPointCombMultiplier().multiply(p256.getG(), privateKey.getS()).normalize();
        BigInteger x = q.getAffineXCoord().toBigInteger();
        BigInteger y = q.getAffineYCoord().toBigInteger();
        try {
            return (ECPublicKey) KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(new ECPoint(x, y),
                                                                                                  privateKey.getParams()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK cannot make a P-256 public key", e);
        }
    }
}
