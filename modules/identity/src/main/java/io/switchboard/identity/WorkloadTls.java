package io.switchboard.identity;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.HostnameVerifier;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;

import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;

/**
 * A component's TLS: one {@link SSLContext} for its server and all its clients, holding its certificate and the
 * trust bundle, which follows the files when they change (rotation without a restart; a new handshake uses the new
 * files, open connections keep theirs). Peers are trusted when the bundle's CA signed their certificate and it names
 * a service of the same trust domain; which service a peer must be is checked by the caller: {@link #verifierFor()}
 * on clients, {@link #peer(Certificate[])} on servers. grpc-java's reloading key and trust managers do the swapping;
 * the files are watched here, because grpc-java's own watcher polls once a minute at most and may pair a new key
 * with an old certificate.
 */
public final class WorkloadTls implements AutoCloseable {
    private static final System.Logger LOGGER = System.getLogger(WorkloadTls.class.getName());
    /* a resumed session skips the certificate check: keep them well within a certificate's life */
    private static final int SESSION_SECONDS = 1800;

    private final IdentityFiles files;
    private final AdvancedTlsX509KeyManager keys = new AdvancedTlsX509KeyManager();
    private final AdvancedTlsX509TrustManager trust;
    private final SSLContext context;
    private final ScheduledExecutorService watcher;
    private volatile Loaded loaded;
    private volatile String lastRefusal = "";

    private WorkloadTls(IdentityFiles files, Duration pollEvery) throws IOException {
        this.files = files;
        Loaded first = read(files);
        try {
            trust = AdvancedTlsX509TrustManager.newBuilder()
                    .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION)
                    .setSslSocketAndEnginePeerVerifier(new SameTrustDomain())
                    .build();
            install(first);
            context = SSLContext.getInstance("TLS");
            context.init(new KeyManager[] {keys}, new TrustManager[] {trust}, null);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK cannot set up TLS", e);
        }
        context.getServerSessionContext().setSessionTimeout(SESSION_SECONDS);
        context.getClientSessionContext().setSessionTimeout(SESSION_SECONDS);
        loaded = first;
        watcher = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "tls-files-watcher");
            thread.setDaemon(true);
            return thread;
        });
        long period = pollEvery.toMillis();
        watcher.scheduleWithFixedDelay(this::reloadIfChanged, period, period, TimeUnit.MILLISECONDS);
    }

    /**
     * Loads a component's identity and starts following its files.
     *
     * @param files     the certificate, key and trust bundle
     * @param pollEvery how often the files are looked at
     * @return the TLS of the component
     * @throws IOException when the files cannot be read, do not match, or name no service
     */
    public static WorkloadTls load(IdentityFiles files, Duration pollEvery) throws IOException {
        return new WorkloadTls(files, pollEvery);
    }

    /**
     * The context for the component's TLS server and clients.
     *
     * @return the context
     */
    public SSLContext sslContext() {
        return context;
    }

    /**
     * The key manager behind {@link #sslContext()}: the current certificate and key, for a TLS stack that takes
     * managers rather than a JDK context (Netty's, in jetcd).
     *
     * @return the key manager
     */
    public X509ExtendedKeyManager keyManager() {
        return keys;
    }

    /**
     * The trust manager behind {@link #sslContext()}: the trust bundle, and a peer of this trust domain only.
     *
     * @return the trust manager
     */
    public X509ExtendedTrustManager trustManager() {
        return trust;
    }

    /**
     * A trust manager for calling one service through a TLS stack that takes managers (Netty's, in jetcd): the trust
     * bundle, and a server whose certificate names exactly that service in this trust domain. Netty's host-name
     * check is off with these managers, so this is the check of whom the client reached.
     *
     * @param service the service the server must prove to be
     * @return the trust manager
     */
    public X509ExtendedTrustManager trustManager(String service) {
        return new ServerOfService(trust, service);
    }

    /**
     * Who this component is, by its current certificate.
     *
     * @return the identity
     */
    public ServiceIdentity identity() {
        return loaded.identity;
    }

    /**
     * When the current certificate ends, for a metric and an alert.
     *
     * @return its notAfter
     */
    public Instant notAfter() {
        return loaded.chain[0].getNotAfter().toInstant();
    }

    /**
     * A client's check of the server it reached: the authority it dialled (a service name, as the registry's
     * channels are addressed) must be the service the server's certificate names, in this trust domain. For
     * OkHttp's hostname verifier, which grpc-java's OkHttp transport calls with the channel's authority.
     *
     * @return the verifier
     */
    public HostnameVerifier verifierFor() {
        return (authority, session) -> {
            try {
                return names(session.getPeerCertificates(), authority);
            } catch (SSLPeerUnverifiedException e) {
                return false;
            }
        };
    }

    /* Whether a peer's chain names the given service in this component's trust domain. */
    private boolean names(Certificate[] chain, String service) {
        return peer(chain).filter(id -> id.trustDomain().equals(loaded.identity.trustDomain())
                                        && id.service().equals(service)).isPresent();
    }

    /**
     * The identity a peer's certificate chain names (the leaf's SPIFFE ID).
     *
     * @param chain the chain the peer presented, leaf first; may be empty
     * @return the identity, or empty when it names none
     */
    public static Optional<ServiceIdentity> peer(Certificate[] chain) {
        return chain != null && chain.length > 0 && chain[0] instanceof X509Certificate leaf
               ? ServiceIdentity.of(leaf) : Optional.empty();
    }

    /**
     * Reads the files again when they changed, and uses them when they make a whole identity; otherwise keeps the
     * current one and says why, once per distinct reason.
     */
    void reloadIfChanged() {
        Loaded current = loaded;
        try {
            if (current.stamp.equals(stamp(files))) {
                return;
            }
            Loaded next = read(files);
            install(next);
            loaded = next;
            lastRefusal = "";
            LOGGER.log(Level.INFO, "TLS certificate reloaded: " + next.identity + ", valid until "
                                   + next.chain[0].getNotAfter().toInstant());
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            String why = String.valueOf(e.getMessage());
            if (!why.equals(lastRefusal)) {
                lastRefusal = why;
                LOGGER.log(Level.WARNING, "TLS files changed but are not used, the current certificate stays: " + why);
            }
        }
    }

    @Override
    public void close() {
        watcher.shutdownNow();
    }

    private void install(Loaded next) throws IOException, GeneralSecurityException {
        keys.updateIdentityCredentials(next.chain, next.key);
        trust.updateTrustCredentials(next.trusted);
    }

    private static Loaded read(IdentityFiles files) throws IOException {
        String stamp = stamp(files);
        X509Certificate[] chain = LocalCa.readCertificates(files.certificate());
        X509Certificate[] trusted = LocalCa.readCertificates(files.trustBundle());
        PrivateKey key = LocalCa.readPrivateKey(files.privateKey());
        if (!matches(key, chain[0])) {
            throw new IOException(files.privateKey() + " is not the key of " + files.certificate());
        }
        ServiceIdentity identity = ServiceIdentity.of(chain[0]).orElseThrow(
                () -> new IOException(files.certificate() + " names no service (spiffe://<trust-domain>/service/<name>)"));
        return new Loaded(stamp, chain, key, trusted, identity);
    }

    /* what changes when any of the files is replaced: sizes and modification times */
    private static String stamp(IdentityFiles files) throws IOException {
        StringBuilder stamp = new StringBuilder();
        for (Path file : List.of(files.certificate(), files.privateKey(), files.trustBundle())) {
            stamp.append(Files.size(file)).append('@').append(Files.getLastModifiedTime(file).toMillis()).append(';');
        }
        return stamp.toString();
    }

    private static boolean matches(PrivateKey key, X509Certificate certificate) {
        String algorithm = "EC".equals(key.getAlgorithm()) ? "SHA256withECDSA" : "SHA256with" + key.getAlgorithm();
        try {
            byte[] nonce = "switchboard key check".getBytes(StandardCharsets.UTF_8);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(nonce);
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(nonce);
            return verifier.verify(signer.sign());
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /* A peer of this trust domain only, checked in the handshake on both sides. */
    private final class SameTrustDomain implements AdvancedTlsX509TrustManager.SslSocketAndEnginePeerVerifier {
        @Override
        public void verifyPeerCertificate(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            check(chain);
        }

        @Override
        public void verifyPeerCertificate(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            check(chain);
        }

        private void check(X509Certificate[] chain) throws CertificateException {
            Loaded current = loaded;
            Optional<ServiceIdentity> peer = peer(chain);
            // during construction nothing is loaded yet, and no handshake runs
            if (current != null && peer.map(id -> !id.trustDomain().equals(current.identity.trustDomain())).orElse(true)) {
                throw new CertificateException("the peer's certificate names no service of trust domain "
                                               + current.identity.trustDomain() + ": "
                                               + peer.map(ServiceIdentity::uri).orElse("no SPIFFE ID"));
            }
        }
    }

    private record Loaded(String stamp, X509Certificate[] chain, PrivateKey key, X509Certificate[] trusted,
                          ServiceIdentity identity) {
        @Override
        public String toString() {
            return identity + " " + Arrays.toString(chain);
        }
    }

    /* The component's trust, and a server that proves to be one service. */
    private final class ServerOfService extends X509ExtendedTrustManager {
        private final X509ExtendedTrustManager delegate;
        private final String service;

        ServerOfService(X509ExtendedTrustManager delegate, String service) {
            this.delegate = delegate;
            this.service = service;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            delegate.checkServerTrusted(chain, authType, socket);
            require(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            delegate.checkServerTrusted(chain, authType, engine);
            require(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            delegate.checkServerTrusted(chain, authType);
            require(chain);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw new CertificateException("a client's trust manager checks servers only");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            throw new CertificateException("a client's trust manager checks servers only");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("a client's trust manager checks servers only");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return delegate.getAcceptedIssuers();
        }

        private void require(X509Certificate[] chain) throws CertificateException {
            if (!names(chain, service)) {
                throw new CertificateException("the server is not " + service + " of " + loaded.identity.trustDomain());
            }
        }
    }
}
