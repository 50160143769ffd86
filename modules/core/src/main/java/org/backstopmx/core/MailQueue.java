package org.backstopmx.core;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The durable queue between the receiving and the delivering side.
 *
 * <p>Guarantees: a message whose {@link IncomingMessage#commit(Envelope)} returned is on disk, body and envelope,
 * fsynced; a message that was not committed leaves nothing behind after a restart. All methods may block on disk
 * and database I/O, so callers must not run them on a network event loop. Implementations are thread-safe.
 *
 * <h2>Delivering</h2>
 * The delivering side works in leases, never holding a lock across a network attempt:
 * <ol>
 * <li>{@link #leaseDue} claims due recipients and records the claim durably <em>before</em> anything is sent (a
 *     crash mid-attempt then makes the recipient due again at the lease's end, never in a tight loop);
 * <li>the caller reads the message ({@link #openBody}) and tries the recipients, several per connection;
 * <li>{@link #recordOutcome} records each recipient's outcome with the {@link RetryPolicy} decision, as a
 *     compare-and-set against the lease. A message none of whose recipients is left pending (QUEUED, DEFERRED or
 *     HELD) is finished: it leaves the queue and its body is deleted.
 * </ol>
 * A lease that is never recorded simply runs out: the recipient comes due again at {@link Lease#leaseUntil()}, and a
 * later {@code recordOutcome} with the old lease returns false once someone else has leased it again. A holder that
 * needs longer keeps its leases with {@link #renewLeases} before they run out, so a lease can be short (a holder
 * that dies loses its recipients soon) while an attempt may last as long as it takes.
 */
public interface MailQueue extends AutoCloseable {

    /**
     * Starts receiving a new message: creates its body file in the spool.
     *
     * @throws QueueException when no file can be created (disk full, queue closed)
     */
    IncomingMessage receive(QueueId id) throws QueueException;

    /**
     * Whether the queue's file system has room for a message of {@code expectedSize} bytes on top of the configured
     * free-space reserve. Checked at MAIL time so a client is turned away with {@code 452 4.3.1} before it sends.
     */
    boolean hasRoomFor(long expectedSize);

    /** Messages in the queue, oldest first, at most {@code limit} of them. */
    List<QueuedMessage> list(int limit);

    /** One message, if it is in the queue. */
    Optional<QueuedMessage> find(QueueId id);

    /**
     * The envelope as committed, including what {@link QueuedMessage} leaves out (HELO, DSN {@code ENVID}/{@code RET},
     * each recipient's {@code NOTIFY}/{@code ORCPT}): what the forwarder passes on and what a DSN reports.
     */
    Optional<Envelope> envelope(QueueId id);

    /** Opens the stored body (our {@code Received:} header included) for reading. */
    java.io.InputStream openBody(QueueId id) throws QueueException;

    /**
     * Removes a message, its recipients and its body file, whatever their state (admin {@code queue delete}, and the
     * retirement of finished messages). Returns false when no such message was queued.
     */
    boolean delete(QueueId id) throws QueueException;

    /**
     * Claims up to {@code max} recipients that are due now (QUEUED or DEFERRED, next attempt at or before the queue's
     * clock), oldest due first, grouped by domain (domains in the order of their oldest due recipient) so that one
     * connection can carry many of them.
     *
     * <p>Each claim is a compare-and-set on the recipient that moves its next attempt time to {@code now + leaseTime}:
     * two callers, in this process or not, never get the same recipient while a lease runs, and a claimed recipient
     * stays invisible to {@code leaseDue} until the lease ends. The claims are committed but not waited for on disk:
     * a restart releases every lease (one process holds the queue), so a claim lost in a crash loses nothing. May
     * return fewer
     * than {@code max} (nothing more is due, or other callers won some races); an empty list means nothing was due.
     *
     * @param max       the most recipients to claim; 0 or less claims none
     * @param leaseTime how long the caller may take before the recipients are due again; must be positive and longer
     *                  than an attempt can last
     * @throws QueueException when the claims could not be made (the caller must not attempt delivery)
     */
    default List<Lease> leaseDue(int max, Duration leaseTime) throws QueueException {
        return leaseDue(max, leaseTime, java.util.Set.of());
    }

    /**
     * As {@link #leaseDue(int, Duration)}, passing over the recipients of the domains in {@code skip} (lower case):
     * the forwarder skips destinations whose lanes are full, so that one slow destination's backlog cannot take every
     * claim. Its cost should not grow with the skipped domains' backlog: the H2 queue asks each other domain with mail
     * through an index instead of walking the skipped domains' due recipients.
     */
    List<Lease> leaseDue(int max, Duration leaseTime, java.util.Set<String> skip) throws QueueException;

    /**
     * Gives leases back without an attempt: the recipients are due again now, their attempt count and state as they
     * were (a claim the caller cannot start soon). A lease that was lost meanwhile is left alone. Not waited for on
     * disk, like a claim. Returns how many were given back.
     */
    int releaseLeases(List<Lease> leases) throws QueueException;

    /**
     * Renews leases before they run out: each lease of {@code leases} that still holds (it has not run out, nobody
     * else has leased the recipient since, the message is still queued) is extended to the queue's clock plus
     * {@code leaseTime}, as a claim would have made it; the others are left alone. Not waited for on disk, like a
     * claim.
     *
     * <p>A lease is identified in the queue by its claim's token ({@link Lease#owner()}, one per claim), never by its
     * end: every compare-and-set ({@link #recordOutcome}, {@link #releaseLeases} and this one) compares the
     * recipient, its state and that token. So a renewal changes nothing its holder keeps: the lease as claimed and as
     * renewed both record, and an attempt running while its lease is renewed by another thread needs no hand-over
     * (returning new leases for the holder to swap in would race with the attempt's own {@code recordOutcome}). A
     * lease that ran out and was leased again carries another token, so its old holder can neither record nor renew
     * it. A lease that ran out is not renewed even when nobody took it: its recipient was due meanwhile, and the
     * holder cannot know that nobody else started on it.
     *
     * @param leases    as returned by {@link #leaseDue} or {@link #leaseMessage}, or by an earlier renewal
     * @param leaseTime the new lease's length from now; must be positive
     * @return the leases that held, in the order given, each with its new {@link Lease#leaseUntil()}; a lease left out
     *         was lost (its holder must not start an attempt under it)
     * @throws QueueException when the renewal could not be made (the leases run out at their old end)
     */
    List<Lease> renewLeases(List<Lease> leases, Duration leaseTime) throws QueueException;

    /**
     * Records the outcome of an attempt under {@code lease}, in one durable transaction: the recipient's state, next
     * attempt time, attempt count, last reply and host from {@code decision} and {@code outcome}; one row of attempt
     * history; and, when this was the message's last pending recipient, the end of the message (it leaves the queue
     * and its body file is deleted). The queue's counters move with it.
     *
     * @param lease    as returned by {@link #leaseDue}
     * @param outcome  what the attempt came to
     * @param decision what {@link RetryPolicy#decide} made of it for this lease's state, attempts and first-queued time
     * @return true when recorded; false when the lease was lost (it ran out and the recipient was leased again, or the
     *         message was deleted meanwhile): nothing was changed and the caller must forget the lease
     * @throws IllegalArgumentException when the lease's state may not move to {@code decision.next()}
     * @throws QueueException           when it could not be recorded durably
     */
    boolean recordOutcome(Lease lease, DeliveryOutcome outcome, RetryPolicy.Decision decision) throws QueueException;

    /**
     * One attempt to record: the lease it ran under, its outcome and the decision made of it; what
     * {@link #recordOutcome} takes, for {@link #recordOutcomes}.
     */
    record Attempt(Lease lease, DeliveryOutcome outcome, RetryPolicy.Decision decision) {
        public Attempt {
            java.util.Objects.requireNonNull(lease, "lease");
            java.util.Objects.requireNonNull(outcome, "outcome");
            java.util.Objects.requireNonNull(decision, "decision");
        }
    }

    /**
     * Records several outcomes (the recipients of one message on one connection, or a batch deferred together) as
     * {@link #recordOutcome} does, in one transaction and one wait for durability.
     *
     * @return for each outcome, in order, whether its lease still held
     * @throws IllegalArgumentException when a lease's state may not move to its decision's (nothing is recorded)
     */
    List<Boolean> recordOutcomes(List<Attempt> outcomes) throws QueueException;

    /**
     * Clears the bookkeeping of leases that have run out and returns how many there were. Their recipients are due
     * again anyway (a lease is a next attempt time in the future), so this changes no schedule: it only makes
     * every later {@code recordOutcome} with such a lease return false. Run at startup, when no lease of the
     * previous run can still have a holder; harmless at any time.
     */
    int recoverExpiredLeases() throws QueueException;

    /**
     * Flushes a domain: makes every pending recipient of {@code domain} due now, except those whose attempt is running
     * under a lease. Returns how many recipients of the domain are pending (QUEUED or DEFERRED, leased or not); 0 means
     * nothing is waiting for it. "Due now" is what {@link #leaseDue} and {@link #nextDue} see: the H2 queue records
     * the flush as one mark that its claims walk, so the stored next attempt times (as listed) stay as they were; its
     * cost does not grow with the backlog.
     *
     * @param domain lower case, as in {@link Lease#domain()}
     */
    int flush(String domain) throws QueueException;

    /**
     * {@code queue hold}: moves the message's QUEUED and DEFERRED recipients to HELD, durably. A held recipient is not
     * tried, not expired and not flushed until it is released. A recipient whose attempt is running is left alone (its
     * outcome is recorded as usual).
     *
     * @return how many recipients were held; empty when no such message is queued
     */
    Optional<Integer> hold(QueueId id) throws QueueException;

    /**
     * {@code queue release}: moves the message's HELD recipients back to QUEUED, due now, durably.
     *
     * @return how many recipients were released; empty when no such message is queued
     */
    Optional<Integer> release(QueueId id) throws QueueException;

    /**
     * Leases every pending recipient of one message (QUEUED, DEFERRED and HELD) that is not under a running lease, as
     * {@link #leaseDue} does for due ones: for {@code queue bounce}, which records a failure for each. Empty when the
     * message is not queued or all its pending recipients are being tried.
     */
    List<Lease> leaseMessage(QueueId id, Duration leaseTime) throws QueueException;

    /** The domains that have QUEUED or DEFERRED recipients (what a flush of everything must flush), sorted. */
    java.util.Set<String> pendingDomains() throws QueueException;

    /** When the next pending recipient comes due (a running lease counts as due at its end); empty when none is pending. */
    Optional<java.time.Instant> nextDue() throws QueueException;

    /**
     * How the delivering side hears of new mail. Both methods run on the committing thread and must not block.
     */
    interface ArrivalListener {
        /**
         * When a new recipient of {@code domain} is first due. {@code now} normally; later while its destination is
         * known to be down, so that no attempt is made only to defer it (it stays QUEUED, and a flush brings it
         * forward). Called inside the commit's transaction.
         */
        java.time.Instant firstAttempt(String domain, java.time.Instant now);

        /** After a message is durably queued: the wake-up that lets mail pass through at once. */
        void arrived(Envelope envelope);
    }

    /** Registers the one {@link ArrivalListener}; without one, every recipient is due at once. */
    void onArrival(ArrivalListener listener);

    /** Counters kept by the queue itself. */
    QueueStats stats();

    /** Closes the database cleanly; messages being received are aborted. */
    @Override
    void close();
}
