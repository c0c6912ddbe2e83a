package io.switchboard.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import io.helidon.config.Config;
import io.switchboard.identity.IdentityFiles;
import io.switchboard.identity.WorkloadTls;

/**
 * A component's TLS from its {@code tls} configuration: {@code certificate}, {@code private-key} and
 * {@code trust-bundle} (PEM files, all three or none) and {@code reload-every} (how often the files are looked at,
 * default {@code PT10S}). Without them the component runs plaintext, and says so in a warning.
 */
public final class ComponentTls {
    private static final System.Logger LOG = System.getLogger(ComponentTls.class.getName());

    private ComponentTls() {
    }

    /**
     * The component's TLS, when configured.
     *
     * @param tls       the {@code tls} node
     * @param component the component's name, for the warning
     * @return the TLS, or empty for plaintext
     * @throws IllegalArgumentException when only some of the files are named
     * @throws UncheckedIOException     when the files cannot be read or do not make an identity
     */
    public static Optional<WorkloadTls> from(Config tls, String component) {
        Optional<String> certificate = tls.get("certificate").asString().asOptional();
        Optional<String> key = tls.get("private-key").asString().asOptional();
        Optional<String> bundle = tls.get("trust-bundle").asString().asOptional();
        if (certificate.isEmpty() && key.isEmpty() && bundle.isEmpty()) {
            LOG.log(Level.WARNING, component + " runs plaintext: no tls.certificate, tls.private-key and"
                                   + " tls.trust-bundle, so any caller is served and its identity is unknown");
            return Optional.empty();
        }
        if (certificate.isEmpty() || key.isEmpty() || bundle.isEmpty()) {
            throw new IllegalArgumentException("tls needs certificate, private-key and trust-bundle together");
        }
        IdentityFiles files = new IdentityFiles(Path.of(certificate.get()), Path.of(key.get()), Path.of(bundle.get()));
        Duration every = tls.get("reload-every").as(Duration.class).orElse(Duration.ofSeconds(10));
        if (!every.isPositive()) {
            throw new IllegalArgumentException("tls.reload-every must be positive, got " + every);
        }
        try {
            WorkloadTls loaded = WorkloadTls.load(files, every);
            LOG.log(Level.INFO, component + " serves and calls over mutual TLS as " + loaded.identity()
                                + ", certificate valid until " + loaded.notAfter());
            return Optional.of(loaded);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load the TLS identity: " + e.getMessage(), e);
        }
    }
}
