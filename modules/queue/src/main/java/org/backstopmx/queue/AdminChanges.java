package org.backstopmx.queue;

import java.io.IOException;
import java.io.SyncFailedException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.backstopmx.core.Lease;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.RecipientState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The administrator's changes to the queue, as {@link Enqueuer} is the receiving side and {@link Deliveries} the
 * delivering one: delete a message, hold and release it, lease one message's recipients (for a bounce), and the
 * domains with mail pending. Each is its own transaction and durable before it returns; the counters follow, and each
 * change gets its log line ({@code deleted|held|released by the administrator}).
 */
final class AdminChanges {
    private static final Logger LOG = LoggerFactory.getLogger(AdminChanges.class);

    private final QueueDatabase db;
    private final GroupCommit groupCommit;
    private final QueueCounters counters;
    private final Spool spool;
    private final DiskSpace disk;
    private final Clock clock;
    private final Lifecycle lifecycle;
    private final Maintenance maintenance;

    AdminChanges(QueueDatabase db, GroupCommit groupCommit, QueueCounters counters, Spool spool, DiskSpace disk,
            Clock clock, Lifecycle lifecycle, Maintenance maintenance) {
        this.db = db;
        this.groupCommit = groupCommit;
        this.counters = counters;
        this.spool = spool;
        this.disk = disk;
        this.clock = clock;
        this.lifecycle = lifecycle;
        this.maintenance = maintenance;
    }

    /**
     * Deletes the rows, waits until that is durable, then unlinks the body, so that a crash never leaves a message row
     * whose spool file is gone (a complete spool file without rows is queued again at the next start, so a crash
     * between the two steps makes a deleted message come back once: at-least-once, like every crash here).
     */
    boolean delete(QueueId id) throws QueueException {
        lifecycle.enter(id + ": delete");
        try {
            Optional<MessageRows.Removed> removed;
            try {
                removed = db.transaction(c -> MessageRows.delete(c, id));
            } catch (SQLException | RuntimeException e) {
                throw StorageFailure.of(id + ": cannot delete", e, disk, 0);
            }
            if (removed.isEmpty()) {
                return false;
            }
            counters.removed(removed.get());
            try {
                groupCommit.awaitDurable(null);
            } catch (SyncFailedException e) {
                throw StorageFailure.of(id + ": deleted, but not durably; its body file is kept", e, disk, 0);
            }
            try {
                spool.delete(id);
            } catch (IOException e) {
                LOG.error("{}: deleted, but its spool file {} could not be removed; remove it by hand, or the next start"
                        + " queues it again", id, spool.fileFor(id), e);
            }
            MessageLog.admin(id, "deleted", removed.get().states().size());
            MessageLog.removed(id, removed.get().size(), removed.get().states().size());
            maintenance.wrote(removed.get().states().size());
            return true;
        } finally {
            lifecycle.exit();
        }
    }

    Optional<Integer> hold(QueueId id) throws QueueException {
        return move(id, java.util.EnumSet.of(RecipientState.QUEUED, RecipientState.DEFERRED), RecipientState.HELD,
                "held");
    }

    Optional<Integer> release(QueueId id) throws QueueException {
        return move(id, java.util.EnumSet.of(RecipientState.HELD), RecipientState.QUEUED, "released");
    }

    /** Hold and release: one transaction in the group commit, durable before it returns; the counters follow. */
    private Optional<Integer> move(QueueId id, java.util.Set<RecipientState> from, RecipientState to, String action)
            throws QueueException {
        Objects.requireNonNull(id, "id");
        lifecycle.enter(id + ": " + action);
        try {
            Instant now = clock.instant();
            List<Optional<Map<RecipientState, List<String>>>> result = new java.util.ArrayList<>(1);
            try {
                groupCommit.awaitDurable(null, c -> {
                    result.clear();
                    result.add(AdminRows.move(c, id, from, to, now));
                    return null;
                });
            } catch (SyncFailedException e) {
                throw StorageFailure.of(id + ": cannot record " + action, e, disk, 0);
            }
            Optional<Map<RecipientState, List<String>>> moved = result.get(0);
            if (moved.isEmpty()) {
                return Optional.empty();
            }
            int total = 0;
            for (Map.Entry<RecipientState, List<String>> e : moved.get().entrySet()) {
                for (String domain : e.getValue()) {
                    counters.moved(domain, e.getKey(), to);
                }
                total += e.getValue().size();
            }
            MessageLog.admin(id, action, total);
            maintenance.wrote(total);
            return Optional.of(total);
        } finally {
            lifecycle.exit();
        }
    }

    List<Lease> leaseMessage(QueueId id, Duration leaseTime) throws QueueException {
        Objects.requireNonNull(id, "id");
        if (leaseTime.isNegative() || leaseTime.isZero()) {
            throw new IllegalArgumentException("lease time must be positive: " + leaseTime);
        }
        lifecycle.enter(id + ": lease");
        try {
            Instant now = clock.instant();
            String owner = java.util.UUID.randomUUID().toString();
            return db.transaction(c -> AdminRows.leaseMessage(c, id, now, now.plus(leaseTime), owner));
        } catch (SQLException | RuntimeException e) {
            throw StorageFailure.of(id + ": cannot lease its recipients", e, disk, 0);
        } finally {
            lifecycle.exit();
        }
    }

    /** From the counters: no scan of the recipient table. */
    java.util.Set<String> pendingDomains() throws QueueException {
        lifecycle.enter("pending domains");
        try {
            return counters.scheduledDomains();
        } finally {
            lifecycle.exit();
        }
    }
}
