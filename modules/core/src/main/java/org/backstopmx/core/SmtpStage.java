package org.backstopmx.core;

/**
 * Where in a delivery attempt an outcome was decided: the step of the SMTP dialogue (RFC 5321 §3, §4.1), or the
 * route lookup before it. Stored by {@link #name()} in the attempt history.
 */
public enum SmtpStage {
    /** Route resolution: MX, A/AAAA lookups (before any connection). */
    DNS,
    /** Opening the TCP connection. */
    CONNECT,
    /** Waiting for the server's 220 greeting. */
    GREETING,
    EHLO,
    STARTTLS,
    MAIL,
    RCPT,
    /** The {@code DATA} command and its 354. */
    DATA,
    /** The reply to the final {@code <CRLF>.<CRLF>}: where a message is accepted or refused as a whole. */
    DOT,
    /** No attempt: an administrator's command decided it ({@code queue bounce}). */
    ADMIN,
    /**
     * Reading the stored message out of the queue, once the dialogue had begun: the attempt was cut short on our side
     * (the queue's database went away, a spool file could not be read), not by the destination.
     */
    QUEUE
}
