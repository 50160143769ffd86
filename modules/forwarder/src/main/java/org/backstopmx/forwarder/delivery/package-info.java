/**
 * The delivering side: drains the queue to each recipient domain's destination (the primary MX for a served domain,
 * the sender's MX for a bounce). Split like Postfix's queue manager, one class per domain noun, each owning its own
 * state and lock:
 * <ul>
 * <li>{@code DeliveryScheduler}: the loop; claims due recipients ({@code MailQueue.leaseDue}), at most
 *     {@code maxInFlight} unrecorded at once, groups them into jobs (one message and its recipients for one domain),
 *     wakes on new mail and sleeps until the next due time or probe.
 * <li>{@code LeaseKeeper}: the leases of every job handed to a lane, renewed by the scheduler every third of the
 *     lease time ({@code MailQueue.renewLeases}); a waiting job whose lease was lost is dropped, never delivered twice
 *     knowingly.
 * <li>{@code InFlight}: the one lock and its signals: the in-flight count, the wake request, the stop flag.
 * <li>{@code Lanes}: per destination, a FIFO of jobs and up to {@code delivery.concurrency} workers, each carrying job
 *     after job over one session (RSET between messages).
 * <li>{@code ConnectionCache}: idle sessions parked for {@code delivery.connection-reuse-time}.
 * <li>{@code DeliveryAttempt}: one job over one session.
 * <li>{@code OutcomeRecorder}: the one place an outcome becomes a state change (through {@code RetryPolicy}) and a DSN
 *     ({@code Bouncer}), the DSN durable before the failure it reports; {@code BackscatterGuard} says which senders get
 *     none (those that failed SPF at intake).
 * <li>{@code DownDestinations}: which destinations are down, their probes, and the flush when one answers.
 * <li>{@code PrimaryWatch}: standby mode ({@code accept: when-primary-down}): probes those domains' primaries, up or
 *     down, and decides with its own hysteresis (probes only) whether SMTP in takes their mail.
 * <li>{@code EtrnGate} (who may flush with ETRN) and {@code AdminActions} (the {@code queue} commands).
 * <li>{@code Callouts}: recipient verification for {@code recipient-check: callout}, over {@code CalloutSessions}
 *     (its own bounded, reused sessions) and the durable recipient cache; fed by {@code OutcomeRecorder}. It moves no
 *     recipient state; a failure of the primary or the cache only makes an RCPT "not known".
 * <li>{@code Forwarder}: builds, starts, stops and wires them; the public face the appliance sees.
 * </ul>
 * What a reply, a lost session, a DNS answer or a local condition means is decided by
 * {@link org.backstopmx.forwarder.FailurePolicy} alone.
 *
 * <h2>States it moves</h2>
 * Due (QUEUED, DEFERRED) to leased by a claim (renewed while the job is held), and back to due, as it was, when a
 * claim is given back; leased to
 * DELIVERED, DEFERRED, FAILED or EXPIRED by the recorder (or HELD at expiry, with {@code queue.at-expiry: hold}); pending to due now by a flush; pending to HELD and back by
 * the admin commands. It never deletes a message: the queue finishes one when no recipient is left pending.
 *
 * <h2>What it retries, what is fatal</h2>
 * Nothing is fatal: no thread of the forwarder lets a failure end it. A transient outcome is retried on the recipient's
 * backoff; a destination where no host opens a session is down, its recipients deferred without a connection and a
 * probe knocking every {@code probe.interval}. A job that fails in any way, or a claim cut short, is left to its
 * lease or given back: its recipients come due again, never lost and never counted in flight for nothing. A DSN that
 * cannot be queued keeps its failed recipients leased, to be tried again. Failures of our own go to
 * {@link org.backstopmx.core.Liveness} (logged once per run, with its cause). Nothing interrupts a thread of the
 * forwarder: one interrupted inside H2 has its file channel closed by the JDK, which damages the running database.
 */
package org.backstopmx.forwarder.delivery;
