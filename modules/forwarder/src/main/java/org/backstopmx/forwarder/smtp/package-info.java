/**
 * The SMTP client that relays stored messages to a destination (RFC 5321), on Apache Commons Net as a thin
 * transport: {@link org.backstopmx.forwarder.smtp.RelayClient} holds one blocking connection and carries one or more
 * messages over it, with PIPELINING, SIZE, 8BITMIME, the DSN parameters passed through, STARTTLS by policy and the
 * per-stage timeouts of RFC 5321 §4.5.3.2.
 *
 * <p>It moves no recipient state: it returns a {@link org.backstopmx.core.DeliveryOutcome} per recipient (with the
 * reply, host and stage) for the caller to record. What a reply or a lost session means (delivered, transient,
 * permanent, whether it ends the session) it asks {@link org.backstopmx.forwarder.FailurePolicy}; it decides none of
 * it itself.
 *
 * <p>Failure modes:
 * <ul>
 *   <li>connection refused, connect or read timeouts, a connection lost (also in the middle of DATA), a 421 at any
 *       stage, a refused greeting, EHLO/HELO or RSET, a failed TLS handshake, STARTTLS required but not offered, a
 *       reply that cannot be parsed, an error reading the stored body: the connection ends, every recipient not
 *       yet finished is transient, and the client reports the same for any later message;</li>
 *   <li>a message larger than the SIZE the server advertised is permanent for all its recipients without being
 *       sent (RFC 1870 §6.1), with a locally made 552 5.3.4 reply;</li>
 *   <li>nothing here throws for an SMTP or network outcome.</li>
 * </ul>
 */
package org.backstopmx.forwarder.smtp;
