package io.switchboard.identity;

import java.nio.file.Path;

/**
 * Where a component's identity lives, as PEM files: what a TLS server or client loads, and what it watches for
 * rotation.
 *
 * @param certificate the component's certificate (the leaf first, then any intermediates)
 * @param privateKey  its private key, PKCS#8, readable by its owner only
 * @param trustBundle the certificate authorities whose certificates it accepts from peers
 */
public record IdentityFiles(Path certificate, Path privateKey, Path trustBundle) {
}
