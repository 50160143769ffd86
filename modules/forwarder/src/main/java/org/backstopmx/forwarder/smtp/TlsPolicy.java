package org.backstopmx.forwarder.smtp;

/** Whether the relay client uses STARTTLS (RFC 3207). */
public enum TlsPolicy {
    /** Never, even when offered. */
    NONE,
    /**
     * When offered. The certificate is not checked: opportunistic TLS only protects against passive listeners
     * (RFC 7435), and refusing an unverifiable certificate would make delivery worse than plain text, which is what
     * a server without STARTTLS gets anyway. A failed handshake is a transient failure of this connection.
     */
    OPPORTUNISTIC,
    /**
     * Always: a server that does not offer STARTTLS gets a transient failure instead of the mail. The certificate
     * is still not checked: encrypted, not authenticated (Postfix's {@code encrypt} level); use {@link #VERIFY} or
     * {@link #FINGERPRINT} to authenticate the primary.
     */
    REQUIRED,
    /**
     * STARTTLS with a PKIX chain to the trusted CAs ({@link TlsTrust}), the host name checked against the MX or route
     * host name (RFC 6125) and sent as SNI, validity dates checked. Any failure defers ({@link TlsFailure}); never
     * plain text.
     */
    VERIFY,
    /**
     * STARTTLS with the leaf's public key matching a pin ({@link TlsTrust#pins()}); no chain or name check. Any
     * failure defers; never plain text.
     */
    FINGERPRINT,
    /**
     * The domain's MTA-STS policy (RFC 8461, {@link org.backstopmx.forwarder.sts.MtaSts}) decides, per MX host, which
     * of the other levels a session gets: {@link #VERIFY} for a host an {@code enforce} or {@code testing} policy
     * names, no session at all for one an {@code enforce} policy does not name, {@link #OPPORTUNISTIC} without a
     * policy. The relay client never sees this level itself.
     */
    MTA_STS,
    /**
     * STARTTLS with the chain checked against the host's TLSA records ({@link DaneTrust}, RFC 7672), which DNSSEC
     * vouched for ({@link TlsTrust#tlsa()}). A session opened at this level has usable records: where DNSSEC does
     * not vouch for any, the connector opens it at a lower level instead (RFC 7672 §2.2). Any failure defers.
     */
    DANE;

    /** {@code none}, {@code opportunistic}, ..., {@code mta-sts}: the configuration's word and the metric's label. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    /** Whether this level checks who the server is (and so never falls back to plain text). */
    public boolean authenticates() {
        return this == VERIFY || this == FINGERPRINT || this == DANE;
    }

    /** Whether a server without STARTTLS gets a failure instead of the mail. */
    public boolean requiresTls() {
        return this == REQUIRED || authenticates();
    }
}
