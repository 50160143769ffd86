/**
 * The SMTP client that relays stored messages to a destination (RFC 5321), on Apache Commons Net as a thin
 * transport: {@link org.backstopmx.forwarder.smtp.RelayClient} holds one blocking connection and carries one or more
 * messages over it, with PIPELINING, SIZE, 8BITMIME, the DSN parameters passed through, STARTTLS by policy and the
 * per-stage timeouts of RFC 5321 §4.5.3.2.
 *
 * <p>It moves no recipient state and judges no failure: it returns a
 * {@link org.backstopmx.forwarder.smtp.RecipientFact} per recipient (the reply that settled it and where, a session
 * that ended first, a message over the announced SIZE) and, for a connection that cannot be used, a
 * {@link org.backstopmx.forwarder.smtp.SessionFailure}. What those mean (delivered, transient, permanent) is
 * {@link org.backstopmx.forwarder.FailurePolicy#outcome}'s, and so are the two rules the dialogue itself needs (a 421
 * ends the session; an EHLO refused with 5xx falls back to HELO).
 *
 * <p>Failure modes:
 * <ul>
 *   <li>connection refused, connect or read timeouts, a connection lost (also in the middle of DATA), a 421 at any
 *       stage, a refused greeting, EHLO/HELO or RSET, a failed TLS handshake, STARTTLS required but not offered, a
 *       reply that cannot be parsed, an error reading the stored body: the connection ends, every recipient not
 *       yet settled is reported unsettled with the session's failure (the policy makes that transient), and the
 *       client reports the same for any later message;</li>
 *   <li>at the authenticating levels ({@code verify}, {@code fingerprint}, {@code dane}) STARTTLS not offered or
 *       refused, a failed handshake, an untrusted chain, a wrong name, an expired certificate, an unpinned key or a
 *       certificate no TLSA record matches end the connection
 *       the same way, never falling back to plain text; the detail names the reason ({@link
 *       org.backstopmx.forwarder.smtp.TlsFailure}), which the deferral text and the delivery log line carry;</li>
 *   <li>a message larger than the SIZE the server advertised is not sent (RFC 1870 §6.1); the policy fails its
 *       recipients with a locally made 552 5.3.4 reply;</li>
 *   <li>nothing here throws for an SMTP or network outcome.</li>
 * </ul>
 */
package org.backstopmx.forwarder.smtp;
