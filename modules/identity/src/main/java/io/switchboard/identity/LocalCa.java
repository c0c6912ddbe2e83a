package io.switchboard.identity;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A certificate authority in a directory, for the local run and the tests: made on first use, it issues each
 * component a certificate naming its {@link ServiceIdentity}, usable as TLS server and client, and renews one that
 * is missing, names someone else, or expires soon. Production uses the chart's CA or cert-manager instead. Keys are
 * ECDSA P-256 (the cheapest handshakes); the CA's key never leaves its owner-only file. Processes that start at
 * once share the directory safely: each step holds a file lock on it.
 *
 * <p>Files: {@code ca.pem} and {@code ca-key.pem}, then {@code <service>.pem} and {@code <service>-key.pem} per
 * service.
 */
public final class LocalCa {
    /** The trust domain of a local CA unless configured otherwise. */
    public static final String DEFAULT_TRUST_DOMAIN = "switchboard.local";
    /** How long the CA is valid. */
    static final Duration CA_LIFETIME = Duration.ofDays(3650);
    /** How long a component's certificate is valid. */
    public static final Duration LIFETIME = Duration.ofDays(90);
    /** A component's certificate closer to its end than this is renewed by {@link #ensure(String)}. */
    public static final Duration RENEW_WITHIN = Duration.ofDays(30);
    private static final String SIGNATURE = "SHA256withECDSA";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path directory;
    private final String trustDomain;
    private final X509Certificate certificate;
    private final PrivateKey key;
    private final Clock clock;

    private LocalCa(Path directory, String trustDomain, X509Certificate certificate, PrivateKey key, Clock clock) {
        this.directory = directory;
        this.trustDomain = trustDomain;
        this.certificate = certificate;
        this.key = key;
        this.clock = clock;
    }

    /**
     * The CA in a directory, made there when it has none.
     *
     * @param directory   where its files are (created when missing)
     * @param trustDomain the trust domain it issues identities in
     * @return the CA
     * @throws IOException              when its files cannot be read or written
     * @throws IllegalArgumentException when the directory holds the CA of another trust domain
     */
    public static LocalCa openOrCreate(Path directory, String trustDomain) throws IOException {
        return openOrCreate(directory, trustDomain, Clock.systemUTC());
    }

    static LocalCa openOrCreate(Path directory, String trustDomain, Clock clock) throws IOException {
        new ServiceIdentity(trustDomain, "ca");
        Files.createDirectories(directory);
        try (Lock ignored = Lock.on(directory)) {
            Path certFile = directory.resolve("ca.pem");
            Path keyFile = directory.resolve("ca-key.pem");
            if (Files.exists(certFile) && Files.exists(keyFile)) {
                X509Certificate certificate = readCertificate(certFile);
                String domain = trustDomainOf(certificate).orElse(null);
                if (!trustDomain.equals(domain)) {
                    throw new IllegalArgumentException(certFile + " is the CA of trust domain " + domain + ", not "
                                                       + trustDomain);
                }
                return new LocalCa(directory, trustDomain, certificate, readPrivateKey(keyFile), clock);
            }
            KeyPair pair = newKeyPair();
            Instant now = clock.instant();
            X500Name name = new X500Name("CN=Switchboard local CA " + trustDomain + ",O=Switchboard");
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                    name, serial(), Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(CA_LIFETIME)),
                    name, pair.getPublic());
            JcaX509ExtensionUtils extensions = extensionUtils();
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                                  extensions.createSubjectKeyIdentifier(pair.getPublic()))
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(
                            new GeneralName(GeneralName.uniformResourceIdentifier, "spiffe://" + trustDomain)));
            X509Certificate certificate = sign(builder, pair.getPrivate());
            OwnerOnlyFile.write(keyFile, pem(pair.getPrivate()));
            writeAtomically(certFile, pem(certificate));
            return new LocalCa(directory, trustDomain, certificate, pair.getPrivate(), clock);
        }
    }

    /**
     * The CA's certificate: the trust bundle of every component it issues for.
     *
     * @return the certificate
     */
    public X509Certificate certificate() {
        return certificate;
    }

    /**
     * A TLS context that trusts this CA and shows no certificate of its own: what a client from outside the
     * platform has (a browser, Prometheus, a probe), and what a test needs to be such a client.
     *
     * @return the context
     */
    public SSLContext trustingContext() {
        try {
            KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
            trusted.load(null, null);
            trusted.setCertificateEntry("ca", certificate);
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(trusted);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, factory.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("this JDK cannot make a TLS context", e);
        }
    }

    /**
     * The identity of a service in this CA's trust domain.
     *
     * @param service the service name
     * @return the identity
     */
    public ServiceIdentity identity(String service) {
        return new ServiceIdentity(trustDomain, service);
    }

    /**
     * A service's identity files, issuing a new certificate when there is none, when it names another identity or
     * another CA signed it, or when it ends within {@link #RENEW_WITHIN}.
     *
     * @param service the service name
     * @return its files
     * @throws IOException when the files cannot be read or written
     */
    public IdentityFiles ensure(String service) throws IOException {
        ServiceIdentity identity = identity(service);
        try (Lock ignored = Lock.on(directory)) {
            IdentityFiles files = files(service);
            if (Files.exists(files.certificate()) && Files.exists(files.privateKey())) {
                try {
                    X509Certificate current = readCertificate(files.certificate());
                    current.verify(certificate.getPublicKey());
                    Instant renewAt = current.getNotAfter().toInstant().minus(RENEW_WITHIN);
                    if (identity.equals(ServiceIdentity.of(current).orElse(null)) && clock.instant().isBefore(renewAt)) {
                        return files;
                    }
                } catch (IOException | GeneralSecurityException | RuntimeException e) {
                    // unreadable, or signed by another CA: issue a new one below
                }
            }
            return issueLocked(identity, LIFETIME);
        }
    }

    /**
     * Issues a new certificate for a service, replacing its files (each file is replaced whole, never seen half
     * written): what a rotation does.
     *
     * @param service  the service name
     * @param lifetime how long it is valid
     * @return its files
     * @throws IOException when the files cannot be written
     */
    public IdentityFiles issue(String service, Duration lifetime) throws IOException {
        ServiceIdentity identity = identity(service);
        try (Lock ignored = Lock.on(directory)) {
            return issueLocked(identity, lifetime);
        }
    }

    private IdentityFiles issueLocked(ServiceIdentity identity, Duration lifetime) throws IOException {
        KeyPair pair = newKeyPair();
        Instant now = clock.instant();
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                certificate, serial(), Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(lifetime)),
                new X500Name("CN=" + identity.service() + ",O=Switchboard"), pair.getPublic());
        JcaX509ExtensionUtils extensions = extensionUtils();
        try {
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                            new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                    .addExtension(Extension.authorityKeyIdentifier, false,
                                  extensions.createAuthorityKeyIdentifier(certificate))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                                  extensions.createSubjectKeyIdentifier(pair.getPublic()))
                    // the SPIFFE ID, and the loopback names, so that curl --cacert works against a local component
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                            new GeneralName(GeneralName.uniformResourceIdentifier, identity.uri()),
                            new GeneralName(GeneralName.dNSName, "localhost"),
                            new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot make the certificate's extensions", e);
        }
        X509Certificate leaf = sign(builder, key);
        IdentityFiles files = files(identity.service());
        // the key first: a reader that sees the new certificate finds its key already there
        OwnerOnlyFile.write(files.privateKey(), pem(pair.getPrivate()));
        writeAtomically(files.certificate(), pem(leaf));
        return files;
    }

    private IdentityFiles files(String service) {
        return new IdentityFiles(directory.resolve(service + ".pem"), directory.resolve(service + "-key.pem"),
                                 directory.resolve("ca.pem"));
    }

    /**
     * Reads the first certificate of a PEM file.
     *
     * @param file the file
     * @return the certificate
     * @throws IOException when it cannot be read or holds no certificate
     */
    public static X509Certificate readCertificate(Path file) throws IOException {
        return readCertificates(file)[0];
    }

    /**
     * Reads every certificate of a PEM file (a chain, a trust bundle).
     *
     * @param file the file
     * @return the certificates, in the file's order; at least one
     * @throws IOException when it cannot be read or holds no certificate
     */
    public static X509Certificate[] readCertificates(Path file) throws IOException {
        try {
            X509Certificate[] all = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(Files.readAllBytes(file))).stream()
                    .map(X509Certificate.class::cast).toArray(X509Certificate[]::new);
            if (all.length == 0) {
                throw new IOException(file + " holds no certificate");
            }
            return all;
        } catch (GeneralSecurityException e) {
            throw new IOException(file + " holds no readable X.509 certificate: " + e.getMessage(), e);
        }
    }

    /**
     * Reads a PKCS#8 private key from a PEM file.
     *
     * @param file the file
     * @return the key
     * @throws IOException when it cannot be read or holds no such key
     */
    public static PrivateKey readPrivateKey(Path file) throws IOException {
        try (PEMParser parser = new PEMParser(new StringReader(Files.readString(file, StandardCharsets.UTF_8)))) {
            if (parser.readObject() instanceof PrivateKeyInfo info) {
                return new JcaPEMKeyConverter().getPrivateKey(info);
            }
            throw new IOException(file + " holds no PKCS#8 private key");
        }
    }

    private static Optional<String> trustDomainOf(X509Certificate ca) {
        return ServiceIdentity.spiffeIds(ca).stream().map(uri -> uri.substring("spiffe://".length())).findFirst();
    }

    private static KeyPair newKeyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK cannot make P-256 keys", e);
        }
    }

    private static BigInteger serial() {
        return new BigInteger(127, RANDOM).add(BigInteger.ONE);
    }

    private static JcaX509ExtensionUtils extensionUtils() {
        try {
            return new JcaX509ExtensionUtils();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no SHA-1 for key identifiers", e);
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer) {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder(SIGNATURE).build(signer)));
        } catch (OperatorCreationException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign a certificate", e);
        }
    }

    private static String pem(Object object) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            // PKCS#8 ("PRIVATE KEY"): the writer would turn an EC key into SEC1, which grpc-java cannot read
            if (object instanceof PrivateKey privateKey) {
                writer.writeObject(new JcaPKCS8Generator(privateKey, null));
            } else {
                writer.writeObject(object);
            }
        }
        return text.toString();
    }

    /* A public file, replaced whole: a reader sees the old one or the new one. */
    private static void writeAtomically(Path file, String content) throws IOException {
        Path temporary = Files.createTempFile(file.toAbsolutePath().getParent(), "." + file.getFileName(), ".tmp");
        try {
            Files.writeString(temporary, content, StandardCharsets.UTF_8);
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /*
     * An exclusive lock on the directory, across processes (a file lock) and across the threads of this one (file
     * locks belong to the whole JVM, which refuses a second one on the same file).
     */
    private record Lock(FileChannel channel, FileLock lock) implements AutoCloseable {
        private static final ReentrantLock IN_THIS_JVM = new ReentrantLock();

        static Lock on(Path directory) throws IOException {
            IN_THIS_JVM.lock();
            FileChannel channel = null;
            try {
                channel = FileChannel.open(directory.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                return new Lock(channel, channel.lock());
            } catch (IOException | RuntimeException e) {
                if (channel != null) {
                    channel.close();
                }
                IN_THIS_JVM.unlock();
                throw e;
            }
        }

        @Override
        public void close() throws IOException {
            try (channel) {
                lock.release();
            } finally {
                IN_THIS_JVM.unlock();
            }
        }
    }
}
