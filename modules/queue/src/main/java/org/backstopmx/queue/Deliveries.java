package org.backstopmx.queue;

import java.io.IOException;
import java.io.SyncFailedException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.Lease;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.RetryPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The delivering side of the queue: leases due recipients, records outcomes, finishes messages.
 *
 * <p>Every change is its own transaction on a pooled connection (so concurrent callers race on rows, and the
 * compare-and-set decides), followed by a wait for the group commit's next fsync: a lease is durable before the
 * caller sends anything, an outcome before the caller forgets it. The counters move right after the commit, like
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
    private final Runnable afterWrite;

    Deliveries(QueueDatabase db, GroupCommit groupCommit, QueueCounters counters, Spool spool, DiskSpace disk,
            Clock clock, Lifecycle lifecycle, Runnable afterWrite) {
        this.db = db;
        this.groupCommit = groupCommit;
        this.counters = counters;
        this.spool = spool;
        this.disk = disk;
        this.clock = clock;
        this.lifecycle = lifecycle;
        this.afterWrite = afterWrite;
    }

    List<Lease> leaseDue(int max, Duration leaseTime) throws QueueException {
        Objects.requireNonNull(leaseTime, "leaseTime");
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
            List<Lease> leases;
            try {
                leases = db.transaction(c -> LeaseRows.claim(c, max, now, until, owner));
            } catch (SQLException | RuntimeException e) {
                throw StorageFailure.of("cannot lease due recipients", e, disk, 0);
            }
            if (leases.isEmpty()) {
                return leases;
            }
            try {
                groupCommit.awaitDurable(null);
            } catch (SyncFailedException e) {
                // The claims are committed, just not known to be on disk: the recipients come due at lease end.
                throw StorageFailure.of("leased " + leases.size() + " recipients, but not durably", e, disk, 0);
            }
            afterWrite.run();
            return leases;
        } finally {
            lifecycle.exit();
        }
    }

    boolean recordOutcome(Lease lease, DeliveryOutcome outcome, RetryPolicy.Decision decision) throws QueueException {
        Objects.requireNonNull(lease, "lease");
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(decision, "decision");
        if (!lease.state().canMoveTo(decision.next())) {
            throw new IllegalArgumentException(lease.queueId() + ": a recipient in " + lease.state()
                    + " cannot move to " + decision.next());
        }
        lifecycle.enter(lease.queueId() + ": record outcome");
        try {
            Instant now = clock.instant();
            LeaseRows.Recorded recorded;
            try {
                recorded = db.transaction(c -> LeaseRows.recordOutcome(c, lease, outcome, decision, now));
            } catch (SQLException | RuntimeException e) {
                throw StorageFailure.of(lease.queueId() + ": cannot record the outcome", e, disk, 0);
            }
            if (!recorded.won()) {
                LOG.info("{}: to=<{}>: outcome not recorded, the lease was lost ({})", lease.queueId(),
                        lease.address(), outcome.describe());
                return false;
            }
            counters.moved(lease.state(), decision.next());
            recorded.finished().ifPresent(r -> counters.removed(r.size(), r.states()));
            MessageLog.outcome(lease, outcome, decision);
            try {
                groupCommit.awaitDurable(null);
            } catch (SyncFailedException e) {
                throw StorageFailure.of(lease.queueId() + ": outcome recorded, but not durably"
                        + (recorded.finished().isPresent() ? "; its body file is kept" : ""), e, disk, 0);
            }
            if (recorded.finished().isPresent()) {
                try {
                    spool.delete(lease.queueId());
                } catch (IOException e) {
                    LOG.warn("{}: finished, but its body file could not be removed; the next start removes it",
                            lease.queueId(), e);
                }
                MessageLog.removed(lease.queueId(), recorded.finished().get().size(),
                        recorded.finished().get().states().size());
            }
            afterWrite.run();
            return true;
        } finally {
            lifecycle.exit();
        }
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

    /** See {@link org.backstopmx.core.MailQueue#expedite}. */
    int expedite(String domain) throws QueueException {
        lifecycle.enter("expedite " + domain);
        try {
            // Moves schedules earlier only: losing it in a crash loses nothing (a restart makes leases due anyway).
            return db.transaction(c -> LeaseRows.expedite(c, domain, clock.instant()));
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
