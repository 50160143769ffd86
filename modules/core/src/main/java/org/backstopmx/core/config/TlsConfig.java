package org.backstopmx.core.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * STARTTLS material: a PEM certificate chain and its PEM private key (PKCS#8, or PKCS#1 RSA).
 *
 * @param certificate {@code smtp.tls.certificate}
 * @param key         {@code smtp.tls.key}
 */
public record TlsConfig(Path certificate, Path key) {
    public TlsConfig {
        Objects.requireNonNull(certificate, "certificate");
        Objects.requireNonNull(key, "key");
    }
}
