package io.switchboard.identity;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LocalCaUnitTest {
    @TempDir
    Path directory;

    @Test
    void issuesACertificateThatNamesTheServiceChainsToTheCaAndServesAsServerAndClient() throws Exception {
        LocalCa ca = LocalCa.openOrCreate(directory, "switchboard.local");
        IdentityFiles files = ca.ensure("post");

        X509Certificate leaf = LocalCa.readCertificate(files.certificate());
        assertThat(ServiceIdentity.of(leaf)).contains(new ServiceIdentity("switchboard.local", "post"));
        assertThat(leaf.getExtendedKeyUsage()).containsExactlyInAnyOrder("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
        assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
        // the JDK's own PKIX validation, as a TLS peer does it, from the trust bundle file
        X509Certificate root = LocalCa.readCertificate(files.trustBundle());
        PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
        parameters.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(
                CertificateFactory.getInstance("X.509").generateCertPath(List.of(leaf)), parameters);
        assertThat(matches(LocalCa.readPrivateKey(files.privateKey()), leaf.getPublicKey())).isTrue();
        assertThat(Files.readString(files.privateKey(), StandardCharsets.UTF_8)).startsWith("-----BEGIN PRIVATE KEY-----");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(files.privateKey()))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(directory.resolve("ca-key.pem"))))
                .isEqualTo("rw-------");
    }

    @Test
    void keepsAValidCertificateAndRenewsOneNearItsEndOrNamingSomeoneElse() throws Exception {
        LocalCa ca = LocalCa.openOrCreate(directory, "switchboard.local");
        IdentityFiles first = ca.ensure("user");
        String issued = Files.readString(first.certificate());

        assertThat(Files.readString(LocalCa.openOrCreate(directory, "switchboard.local").ensure("user").certificate()))
                .as("a valid certificate is kept").isEqualTo(issued);

        Instant nearTheEnd = Instant.now().plus(LocalCa.LIFETIME).minus(LocalCa.RENEW_WITHIN).plus(Duration.ofHours(1));
        LocalCa later = LocalCa.openOrCreate(directory, "switchboard.local", Clock.fixed(nearTheEnd, ZoneOffset.UTC));
        assertThat(Files.readString(later.ensure("user").certificate())).as("renewed near its end").isNotEqualTo(issued);

        // a certificate file that names another service is replaced by one that names this one
        Files.copy(ca.ensure("post").certificate(), first.certificate(), StandardCopyOption.REPLACE_EXISTING);
        X509Certificate renewed = LocalCa.readCertificate(ca.ensure("user").certificate());
        assertThat(ServiceIdentity.of(renewed)).contains(new ServiceIdentity("switchboard.local", "user"));
        assertThat(matches(LocalCa.readPrivateKey(first.privateKey()), renewed.getPublicKey())).isTrue();
    }

    @Test
    void refusesTheCaOfAnotherTrustDomainAndBadNames() throws Exception {
        LocalCa.openOrCreate(directory, "switchboard.local");
        assertThatThrownBy(() -> LocalCa.openOrCreate(directory, "other.example"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("switchboard.local");
        LocalCa ca = LocalCa.openOrCreate(directory, "switchboard.local");
        assertThatThrownBy(() -> ca.ensure("../etc")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ca.ensure("Post")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> LocalCa.openOrCreate(directory.resolve("x"), "Bad Domain"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void callersStartingAtOnceShareOneCa() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            Callable<String> open = () -> Files.readString(
                    LocalCa.openOrCreate(directory, "switchboard.local").ensure("hub").trustBundle());
            List<Future<String>> bundles = pool.invokeAll(List.of(open, open, open, open));
            String first = bundles.get(0).get();
            for (Future<String> bundle : bundles) {
                assertThat(bundle.get()).isEqualTo(first);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static boolean matches(PrivateKey privateKey, PublicKey publicKey) throws GeneralSecurityException {
        byte[] data = "switchboard".getBytes(StandardCharsets.UTF_8);
        Signature signer = Signature.getInstance("SHA256withECDSA");
        signer.initSign(privateKey);
        signer.update(data);
        Signature verifier = Signature.getInstance("SHA256withECDSA");
        verifier.initVerify(publicKey);
        verifier.update(data);
        return verifier.verify(signer.sign());
    }
}
