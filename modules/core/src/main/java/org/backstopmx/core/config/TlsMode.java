package org.backstopmx.core.config;

import java.util.Locale;

/**
 * Whether STARTTLS is used when delivering to a primary: {@code delivery.tls}, and per served domain
 * {@code domains.<name>.tls}. Written in the configuration in lower case ({@code none}, {@code opportunistic},
 * {@code required}).
 */
public enum TlsMode {
    /** Never STARTTLS, even when the primary offers it. */
    NONE,
    /**
     * STARTTLS when the primary offers it; plain text when it does not (RFC 3207 opportunistic TLS, Postfix
     * {@code smtp_tls_security_level = may}). The certificate is not verified.
     */
    OPPORTUNISTIC,
    /**
     * STARTTLS or no delivery: a primary that does not offer it, or whose handshake fails, is treated as a temporary
     * failure and the message stays queued (Postfix {@code encrypt}).
     */
    REQUIRED;

    /** The name as written in the configuration: {@code none}, {@code opportunistic}, {@code required}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
