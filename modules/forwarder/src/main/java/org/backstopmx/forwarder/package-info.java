/**
 * The delivering side: takes mail out of the queue and hands it on to the primary MX (or, for a bounce, to the
 * sender's MX).
 *
 * <p>Owns route resolution and, in {@code org.backstopmx.forwarder.smtp}, the SMTP client that relays a stored message
 * byte for byte ({@code RelayClient}); {@code org.backstopmx.forwarder.delivery} drives them (claims, lanes per
 * destination, down/up and probing, ETRN, outcomes: one class each) and {@code org.backstopmx.forwarder.dsn} writes the
 * delivery status notifications it queues. {@link org.backstopmx.forwarder.FailurePolicy} is the one place that says
 * what a reply, a lost session, a DNS answer or a local condition means, and names every enhanced status code the
 * forwarder makes up itself.
 * {@link org.backstopmx.forwarder.RouteResolver} turns a recipient domain into a
 * {@link org.backstopmx.forwarder.Route} (configured routes first, then MX records with the RFC 5321 §5.1 rule,
 * implicit MX, null MX per RFC 7505), asking DNS through the small {@link org.backstopmx.forwarder.MxResolver}
 * interface, which {@link org.backstopmx.forwarder.DnsjavaMxResolver} implements on dnsjava. For {@code tls: dane},
 * {@link org.backstopmx.forwarder.DaneGate} decides each host's TLS level from MX and TLSA answers looked up with
 * DNSSEC validation ({@link org.backstopmx.forwarder.DnssecLookup}, on dnsjava's validator in
 * {@link org.backstopmx.forwarder.DnsjavaDnssecLookup}). It moves no recipient
 * state itself: a route is advice to the delivery attempt, which records the outcome through
 * {@link org.backstopmx.core.MailQueue}.
 *
 * <p>Failure modes:
 * <ul>
 *   <li>DNS failures (SERVFAIL, timeout, REFUSED, unreachable server) are never fatal: the route is a
 *       {@link org.backstopmx.forwarder.Route.Defer} and the recipient is retried on its backoff schedule;</li>
 *   <li>a domain that cannot receive mail (NXDOMAIN, null MX, only ourselves or our peers as MX, no address) fails a
 *       bounce's recipient permanently ({@link org.backstopmx.forwarder.Route.Fail}), but only defers mail for a
 *       served domain, flagged and logged at WARN: that is a configuration or DNS error of the operator, and the
 *       mail was accepted on the promise of a primary;</li>
 *   <li>at {@code tls: dane} a bogus MX or TLSA answer, or one that could not be had, leaves the host uncontacted and
 *       its recipients deferred with the TLS reason ({@code dane-bogus}, {@code dane-lookup-failed}); an insecure
 *       answer lowers the session to opportunistic (RFC 7672 §2.2), never below;</li>
 *   <li>nothing here throws for a DNS outcome; a bad configuration ({@code dns.server} that does not resolve) fails
 *       at construction;</li>
 *   <li>no thread of the delivering side (scheduler, delivery workers, probes) ends on a failure: each reports it to
 *       {@link org.backstopmx.core.Liveness} (logged once per run of failures) and goes on; one it cannot go on
 *       after (out of memory) makes the process not live. Stopping raises a flag and signals; nothing is interrupted,
 *       since a thread interrupted inside H2 has its file channel closed under the database.</li>
 * </ul>
 */
package org.backstopmx.forwarder;
