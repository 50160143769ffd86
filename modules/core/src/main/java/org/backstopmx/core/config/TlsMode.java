package org.backstopmx.core.config;

import java.util.Locale;

/**
 * Whether STARTTLS is used when delivering to a primary: {@code delivery.tls}, and per served domain
 * {@code domains.<name>.tls}. Written in the configuration in lower case ({@code none}, {@code opportunistic},
 * {@code required}, {@code verify}, {@code fingerprint}, {@code mta-sts}, {@code dane}).
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
     * failure and the message stays queued (Postfix {@code encrypt}). Encrypted, not authenticated: the certificate
     * is not verified, so anyone on the path who can present a certificate of their own can read the mail; use
     * {@link #VERIFY} or {@link #FINGERPRINT} to authenticate the primary.
     */
    REQUIRED,
    /**
     * STARTTLS with the certificate verified: a chain to the JDK's trust store or to {@code delivery.tls-ca-file},
     * the host name (the MX name, or the route's host name) checked by RFC 6125 rules, validity dates checked
     * (Postfix {@code verify}). Any failure defers; never plain text, never an early bounce.
     */
    VERIFY,
    /**
     * STARTTLS with the leaf's public key (SHA-256 of its SubjectPublicKeyInfo) among
     * {@code domains.<name>.tls-fingerprints}; no chain or name check (Postfix {@code fingerprint}). Any failure
     * defers.
     */
    FINGERPRINT,
    /**
     * The domain's MTA-STS policy (RFC 8461): {@code _mta-sts.<domain>} TXT, then the policy from
     * {@code https://mta-sts.<domain>/.well-known/mta-sts.txt}, cached for its {@code max_age}. In {@code enforce}
     * mode only MX hosts the policy names get the mail, over STARTTLS verified as {@link #VERIFY} does; a failure
     * defers. In {@code testing} mode failures are counted and the mail goes anyway; without a policy (or mode
     * {@code none}) it is {@link #OPPORTUNISTIC}.
     */
    MTA_STS,
    /**
     * DANE (RFC 7672): the primary's TLSA records, looked up with DNSSEC validation ({@code dns.trust-anchor-file} or
     * {@code dns.trust-ad}), authenticate its certificate (DANE-EE, or DANE-TA with the MX host name checked). Where
     * the MX or TLSA answer is not signed, or the host publishes no TLSA records, the session is opportunistic; a
     * bogus answer or records that match nothing defer.
     */
    DANE;

    /** The name as written in the configuration: {@code none}, {@code opportunistic}, ..., {@code mta-sts}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
