package org.backstopmx.queue;

import java.io.IOException;
import java.io.SyncFailedException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.Lease;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.RetryPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The delivering side of the queue: leases due recipients, records outcomes, finishes messages.
 *
 * <p>Every change is its own transaction on a pooled connection (so concurrent callers race on rows, and the
 * compare-and-set decides), outcomes followed by a wait for the group commit's next fsync, so an outcome is durable before the caller forgets
 * it. Claims are not waited for: a restart releases every lease anyway. The counters move right after the commit, like
 * {@link Enqueuer} and {@code delete} do.
 *
 * <p>A finished message (no recipient left QUEUED, DEFERRED or HELD) is removed in the same transaction as its last
 * outcome, history included, and its body file is unlinked once that is durable.
 * XXX: the design keeps finished messages with their attempt history for a retention period; that needs a
 * {@code finished_at} column, a retention setting and a purge, and is not done yet.
 */
final class Deliveries {
    private static final Logger LOG = LoggerFactory.getLogger(Deliveries.class);

    private final QueueDatabase db;
    private final GroupCommit groupCommit;
    private final QueueCounters counters;
    private final Spool spool;
    private final DiskSpace disk;
    private final Clock clock;
    private final Lifecycle lifecycle;
    /** Told how many recipient rows each write changed (the maintenance check counts rows, not calls). */
    private final java.util.function.IntConsumer afterWrite;
    private final FlushMarks flushes;
    /**
     * Leases whose outcome could not be recorded (the database failed): their holder has given them up, so they are
     * given back as soon as the database takes writes again ({@link #releaseUnrecorded}) rather than at their lease's
     * end, a quarter of an hour later. Bounded: beyond the bound a lease simply runs out.
     */
    private final java.util.concurrent.ConcurrentLinkedQueue<Lease> unrecorded =
            new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final java.util.concurrent.atomic.AtomicInteger unrecordedCount =
            new java.util.concurrent.atomic.AtomicInteger();
    private static final int MAX_UNRECORDED = 100_000;
    private static final int RELEASE_BATCH = 1000;

    Deliveries(QueueDatabase db, GroupCommit groupCommit, QueueCounters counters, Spool spool, DiskSpace disk,
            Clock clock, Lifecycle lifecycle, java.util.function.IntConsumer afterWrite, FlushMarks flushes) {
        this.db = db;
        this.groupCommit = groupCommit;
        this.counters = counters;
        this.spool = spool;
        this.disk = disk;
        this.clock = clock;
        this.lifecycle = lifecycle;
        this.afterWrite = afterWrite;
        this.flushes = flushes;
    }

    List<Lease> leaseDue(int max, Duration leaseTime, java.util.Set<String> skip) throws QueueException {
        Objects.requireNonNull(leaseTime, "leaseTime");
        Objects.requireNonNull(skip, "skip");
        if (leaseTime.isNegative() || leaseTime.isZero()) {
            throw new IllegalArgumentException("lease time must be positive: " + leaseTime);
        }
        if (max <= 0) {
            return List.of();
        }
        lifecycle.enter("lease");
        try {
            Instant now = clock.instant();
            Instant until = now.plus(leaseTime);
            String owner = UUID.randomUUID().toString();
            Map<String, FlushMarks.Mark> flushed = flushes.snapshot();
            Set<String> domains = skip.isEmpty() ? Set.of() : counters.scheduledDomains();
            ClaimRows.Claimed claimed;
            try {
                claimed = db.transaction(c -> ClaimRows.claim(c, max, now, until, owner, skip, domains, flushed));
            } catch (SQLException | RuntimeException e) {
                throw StorageFailure.of("cannot lease due recipients", e, disk, 0);
            }
            claimed.walks().forEach((domain, walk) -> flushes.walked(domain, walk.mark(), walk.cursor()));
            List<Lease> leases = claimed.leases();
            // No wait for an fsync: a claim only matters while this process runs (a restart releases every lease,
            // see recoverAtStartup), so losing it in a crash loses nothing.
            afterWrite.accept(leases.size());
            return leases;
        } finally {
            lifecycle.exit();
        }
    }

    /** See {@link MailQueue#releaseLeases}. */
    int releaseLeases(List<Lease> leases) throws QueueException {
        if (leases.isEmpty()) {
            return 0;
        }
        lifecycle.enter("release leases");
        try {
            Instant now = clock.instant();
            return db.transaction(c -> LeaseRows.release(c, leases, now));
        } catch (SQLException | RuntimeException e) {
            throw StorageFailure.of("cannot give back leases", e, disk, 0);
        } finally {
            lifecycle.exit();
        }
    }

    /** See {@link MailQueue#renewLeases}: not waited for on disk, like the claim (a restart releases every lease). */
    List<Lease> renewLeases(List<Lease> leases, Duration leaseTime) throws QueueException {
        Objects.requireNonNull(leases, "leases");
        if (leaseTime.isNegative() || leaseTime.isZero()) {
            throw new IllegalArgumentException("lease time must be positive: " + leaseTime);
        }
        if (leases.isEmpty()) {
            return List.of();
        }
        lifecycle.enter("renew leases");
        try {
            Instant now = clock.instant();
            return db.transaction(c -> LeaseRows.renew(c, leases, now, now.plus(leaseTime)));
        } catch (SQLException | RuntimeException e) {
            throw StorageFailure.of("cannot renew leases", e, disk, 0);
        } finally {
            lifecycle.exit();
        }
    }

    boolean recordOutcome(Lease lease, DeliveryOutcome outcome, RetryPolicy.Decision decision) throws QueueException {
        return recordOutcomes(List.of(new MailQueue.Attempt(lease, outcome, decision))).get(0);
    }

    /** See {@link MailQueue#recordOutcomes}: one transaction, one wait for the fsync, then the body files. */
    List<Boolean> recordOutcomes(List<MailQueue.Attempt> outcomes) throws QueueException {
        Objects.requireNonNull(outcomes, "outcomes");
        for (MailQueue.Attempt o : outcomes) {
            if (!o.lease().state().canMoveTo(o.decision().next())) {
                throw new IllegalArgumentException(o.lease().queueId() + ": a recipient in " + o.lease().state()
                        + " cannot move to " + o.decision().next());
            }
        }
        if (outcomes.isEmpty()) {
            return List.of();
        }
        lifecycle.enter(outcomes.get(0).lease().queueId() + ": record outcome");
        try {
            Instant now = clock.instant();
            // The rows are written in the group commit's transaction, with whatever else is being committed (new
            // messages, other workers' outcomes): one H2 chunk and one fsync for the group, not one per caller. If the
            // group fails the work is run again alone, so the list is rebuilt on each run.
            List<LeaseRows.Recorded> recorded = new ArrayList<>(outcomes.size());
            try {
                groupCommit.awaitDurable(null, c -> {
                    recorded.clear();
                    for (MailQueue.Attempt o : outcomes) {
                        recorded.add(LeaseRows.recordOutcome(c, o.lease(), o.outcome(), o.decision(), now));
                    }
                    return null;
                });
            } catch (SyncFailedException e) {
                for (MailQueue.Attempt o : outcomes) {
                    if (unrecordedCount.incrementAndGet() <= MAX_UNRECORDED) {
                        unrecorded.add(o.lease());
                    } else {
                        unrecordedCount.decrementAndGet();
                    }
                }
                if (recorded.size() != outcomes.size()) {
                    throw StorageFailure.of(outcomes.get(0).lease().queueId() + ": cannot record the outcome", e,
                            disk, 0);
                }
                // committed, or maybe not durable: the leases are lost either way (they come due again), and any
                // finished message keeps its body file, so nothing is deleted that a surviving row still names
                throw StorageFailure.of(outcomes.get(0).lease().queueId() + ": outcome recorded, but not durably; body"
                        + " files are kept", e, disk, 0);
            }
            List<Boolean> won = new ArrayList<>(outcomes.size());
            List<QueueId> finished = new ArrayList<>();
            List<MessageRows.Removed> removed = new ArrayList<>();
            for (int i = 0; i < outcomes.size(); i++) {
                MailQueue.Attempt o = outcomes.get(i);
                LeaseRows.Recorded r = recorded.get(i);
                won.add(r.won());
                if (!r.won()) {
                    LOG.info("{}: to=<{}>: outcome not recorded, the lease was lost ({})", o.lease().queueId(),
                            o.lease().address(), o.outcome().describe());
                    continue;
                }
                if (r.stateWritten()) {
                    counters.moved(o.lease().domain(), o.lease().state(), o.decision().next()); // else removed() counts the row as it was
                }
                MessageLog.outcome(o.lease(), o.outcome(), o.decision(), now);
                if (r.finished().isPresent()) {
                    counters.removed(r.finished().get());
                    finished.add(o.lease().queueId());
                    removed.add(r.finished().get());
                }
            }
            for (int i = 0; i < finished.size(); i++) {
                try {
                    spool.delete(finished.get(i));
                } catch (IOException e) {
                    LOG.error("{}: finished, but its spool file {} could not be removed; remove it by hand, or the"
                            + " next start queues it again", finished.get(i), spool.fileFor(finished.get(i)), e);
                }
                MessageLog.removed(finished.get(i), removed.get(i).size(), removed.get(i).states().size());
            }
            afterWrite.accept(won.size());
            return won;
        } finally {
            lifecycle.exit();
        }
    }

    /**
     * Gives back the leases whose outcome could not be recorded (see {@link #unrecorded}): their recipients are due
     * now, as after a restart. A lease the outcome did reach the disk for after all is no longer there to give back
     * (the compare-and-set on its owner finds nothing). Returns how many recipients are due again.
     *
     * @throws QueueException when the database still fails; the leases are kept for the next call
     */
    int releaseUnrecorded() throws QueueException {
        int released = 0;
        while (!unrecorded.isEmpty()) {
            List<Lease> batch = new ArrayList<>();
            for (Lease l; batch.size() < RELEASE_BATCH && (l = unrecorded.poll()) != null; ) {
                batch.add(l);
            }
            try {
                released += releaseLeases(batch);
            } catch (QueueException | RuntimeException e) {
                unrecorded.addAll(batch);
                throw e;
            }
            unrecordedCount.addAndGet(-batch.size());
        }
        if (released > 0) {
            LOG.info("queue: {} recipients whose outcome could not be recorded are due again", released);
        }
        return released;
    }

    int recoverExpiredLeases() throws QueueException {
        lifecycle.enter("recover leases");
        try {
            return clearExpired(db, clock.instant());
        } catch (SQLException | RuntimeException e) {
            throw StorageFailure.of("cannot clear expired leases", e, disk, 0);
        } finally {
            lifecycle.exit();
        }
    }

    /**
     * Startup: no lease can have a holder (the queue lock admits one process), so the recipients leased by the previous
     * run are due now rather than at their lease's end, and leases that ran out are cleared. Logs both counts.
     */
    static int recoverAtStartup(QueueDatabase db, Instant now) throws QueueException, SQLException {
        int expired = clearExpired(db, now);
        int running = db.transaction(c -> LeaseRows.releaseAll(c, now));
        LOG.info("queue recovery: {} recipients whose lease had expired and {} recipients leased by the previous run"
                + " are due now", expired, running);
        return expired + running;
    }

    /**
     * Closing: every lease still running was taken by this process (the queue lock admits one), and none of them can
     * be recorded once the queue is closed, so their recipients are made due now, as the next start would do. The
     * queue on disk then says what is true (due, not "being delivered") to the next run and to an offline
     * {@code queue list}. Best effort: if it fails, startup recovery does the same.
     */
    void releaseAtClose() {
        try {
            int released = db.transaction(c -> LeaseRows.releaseAll(c, clock.instant()));
            LOG.info("queue closing: {} recipients leased but not recorded are due again", released);
        } catch (SQLException | QueueException | RuntimeException e) {
            LOG.warn("queue closing: cannot release the running leases ({}); the next start does", e.toString());
        }
    }

    /** See {@link org.backstopmx.core.MailQueue#flush}. */
    int flush(String domain) throws QueueException {
        lifecycle.enter("flush " + domain);
        try {
            long pending = counters.scheduled(domain);
            if (pending == 0) {
                return 0; // nothing to walk: no mark
            }
            // One row, whatever the backlog (see FlushMarks). It moves schedules earlier only: losing it in a crash
            // loses nothing, so it waits for no fsync.
            Instant now = clock.instant();
            db.transaction(c -> {
                FlushMarks.write(c, domain, now);
                return null;
            });
            flushes.flushed(domain, now);
            return (int) Math.min(Integer.MAX_VALUE, pending);
        } catch (SQLException | RuntimeException e) {
            throw StorageFailure.of("cannot flush " + domain, e, disk, 0);
        } finally {
            lifecycle.exit();
        }
    }

    /** See {@link org.backstopmx.core.MailQueue#nextDue}. */
    Optional<Instant> nextDue() throws QueueException {
        lifecycle.enter("next due");
        try {
            if (flushes.any()) {
                return Optional.of(clock.instant()); // a flush's walk is not done: what it finds is due now
            }
            return db.read(LeaseRows::nextDue);
        } catch (SQLException | RuntimeException e) {
            throw StorageFailure.of("cannot read the schedule", e, disk, 0);
        } finally {
            lifecycle.exit();
        }
    }

    private static int clearExpired(QueueDatabase db, Instant now) throws QueueException, SQLException {
        // Only bookkeeping changes (no schedule): no fsync needed; the next group commit covers it.
        return db.transaction(c -> LeaseRows.clearExpired(c, now));
    }
}
