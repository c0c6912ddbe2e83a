package io.switchboard.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import io.helidon.config.Config;
import io.helidon.metrics.api.Gauge;
import io.helidon.metrics.api.Metrics;
import io.helidon.metrics.api.Tag;
import io.switchboard.identity.IdentityFiles;
import io.switchboard.identity.LocalCa;
import io.switchboard.identity.WorkloadTls;

/**
 * A component's identity and TLS from its {@code tls} configuration, in one of three modes:
 * <ul>
 *     <li>{@code certificate}, {@code private-key} and {@code trust-bundle}: PEM files that the platform's CA issued
 *     (all three or none), as the chart mounts them;</li>
 *     <li>{@code local-ca}: a directory holding a local CA ({@link LocalCa}, made on first use), from which the
 *     component issues its own certificate, as the local run and the tests do; anyone who can read that directory
 *     can take any identity, so it is for one machine only;</li>
 *     <li>{@code plaintext: true}: no TLS and no identity, a development switch that logs a warning.</li>
 * </ul>
 * With none of them the component does not start: mutual TLS is the default. {@code reload-every} is how often the
 * files are looked at for a rotation (default {@code PT10S}); {@code trust-domain} is the local CA's trust domain
 * (default {@code switchboard.local}). The certificate's end of validity is exported as the gauge
 * {@code switchboard_tls_certificate_expiration_timestamp_seconds{identity}}, read afresh at each scrape.
 */
public final class ComponentTls {
    private static final System.Logger LOG = System.getLogger(ComponentTls.class.getName());
    private static final Map<String, WorkloadTls> LATEST = new ConcurrentHashMap<>();

    private ComponentTls() {
    }

    /**
     * The component's TLS.
     *
     * @param tls       the {@code tls} node
     * @param component the component's service name: the identity a local CA issues, and the name in the logs
     * @return the TLS, or empty when {@code plaintext} is switched on
     * @throws IllegalArgumentException when no mode or more than one is configured, or only some of the files
     * @throws UncheckedIOException     when the files cannot be read or do not make an identity
     */
    public static Optional<WorkloadTls> from(Config tls, String component) {
        Optional<String> certificate = tls.get("certificate").asString().asOptional();
        Optional<String> key = tls.get("private-key").asString().asOptional();
        Optional<String> bundle = tls.get("trust-bundle").asString().asOptional();
        Optional<String> localCa = tls.get("local-ca").asString().asOptional();
        boolean plaintext = tls.get("plaintext").asBoolean().orElse(false);
        boolean files = certificate.isPresent() || key.isPresent() || bundle.isPresent();
        int modes = (files ? 1 : 0) + (localCa.isPresent() ? 1 : 0) + (plaintext ? 1 : 0);
        if (modes == 0) {
            throw new IllegalArgumentException(
                    component + " has no identity: set tls.certificate, tls.private-key and tls.trust-bundle (files"
                    + " the platform's CA issued), or tls.local-ca (a local CA's directory, for one machine), or"
                    + " tls.plaintext=true (development only: no TLS, callers unknown)");
        }
        if (modes > 1) {
            throw new IllegalArgumentException(component + ": choose one of tls.certificate/private-key/trust-bundle,"
                                               + " tls.local-ca and tls.plaintext");
        }
        if (plaintext) {
            LOG.log(Level.WARNING, component + " runs PLAINTEXT (tls.plaintext=true, for development only): any"
                                   + " caller is served, its identity is unknown, and traffic can be read");
            return Optional.empty();
        }
        Duration every = tls.get("reload-every").as(Duration.class).orElse(Duration.ofSeconds(10));
        if (!every.isPositive()) {
            throw new IllegalArgumentException("tls.reload-every must be positive, got " + every);
        }
        try {
            IdentityFiles identity;
            String source;
            if (localCa.isPresent()) {
                String domain = tls.get("trust-domain").asString().orElse(LocalCa.DEFAULT_TRUST_DOMAIN);
                identity = LocalCa.openOrCreate(Path.of(localCa.get()), domain).ensure(component);
                source = "issued by the local CA in " + localCa.get();
            } else {
                if (certificate.isEmpty() || key.isEmpty() || bundle.isEmpty()) {
                    throw new IllegalArgumentException("tls needs certificate, private-key and trust-bundle together");
                }
                identity = new IdentityFiles(Path.of(certificate.get()), Path.of(key.get()), Path.of(bundle.get()));
                source = "from " + certificate.get();
            }
            WorkloadTls loaded = WorkloadTls.load(identity, every);
            if (!loaded.identity().service().equals(component)) {
                // a Secret mounted on the wrong component: it would be refused by the hub and by every client
                loaded.close();
                throw new IllegalArgumentException(component + " was given the certificate of " + loaded.identity()
                                                   + " (" + source + "); it must name " + component);
            }
            LOG.log(Level.INFO, component + " uses mutual TLS between components as " + loaded.identity() + " ("
                                + source + "), certificate valid until " + loaded.notAfter());
            // the gauge reads the latest TLS of that identity: a registry keeps the first gauge of a name and tags,
            // and a process that loads an identity again (tests start several components) must not report the old one
            String uri = loaded.identity().uri();
            LATEST.put(uri, loaded);
            Metrics.globalRegistry().getOrCreate(Gauge.builder(
                    "switchboard.tls.certificate.expiration.timestamp.seconds", uri,
                    id -> LATEST.get(id).notAfter().getEpochSecond())
                    .description("When the certificate this component presents ends, in seconds since the epoch")
                    .tags(List.of(Tag.create("identity", uri))));
            return Optional.of(loaded);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load the TLS identity: " + e.getMessage(), e);
        }
    }
}
