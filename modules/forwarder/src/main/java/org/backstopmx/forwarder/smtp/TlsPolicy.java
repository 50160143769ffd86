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
     * is still not checked. XXX: verification (DANE, MTA-STS or a configured trust store) is not implemented.
     */
    REQUIRED
}
