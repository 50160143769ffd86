package org.backstopmx.queue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the queue can take mail now and, if not, why: the one answer behind {@code /health/ready} and the
 * {@code backstop_queue_writable} gauge. The queue cannot take mail while
 * <ul>
 * <li>it is closed;</li>
 * <li>its database is closed: H2 closed it after a failed write (or its file went away), or it could not be
 *     reopened after maintenance;</li>
 * <li>the last group commit failed and none has succeeded since;</li>
 * <li>the usable space of its file system is below the free-space reserve (MAIL is answered {@code 452 4.3.1}).</li>
 * </ul>
 * Each of these clears by itself once its cause is gone, without waiting for mail to arrive: a watch thread looks
 * every second and, while the answer is no, reopens a lost database and, once there is room again, runs an empty
 * group-commit round (an fsync of the database) after a failed one; once the answer is yes again, it gives back the
 * leases whose outcome the failure kept from being recorded, so that their recipients are due at once and not at
 * their lease's end. It logs each change of the answer once. While the answer is yes and nothing failed, a look
 * costs a few field reads and a {@code statvfs}.
 */
final class Writability implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Writability.class);
    static final Duration WATCH_INTERVAL = Duration.ofSeconds(1);

    private final Lifecycle lifecycle;
    private final QueueDatabase db;
    private final GroupCommit groupCommit;
    private final DiskSpace disk;
    private final Deliveries deliveries;
    private final ScheduledExecutorService watch;
    private String told = ""; // which reasons were last logged (watch thread only); "" = takes mail
    private volatile org.backstopmx.core.Liveness.Loop loop;
    private volatile long intervalMillis;

    Writability(Lifecycle lifecycle, QueueDatabase db, GroupCommit groupCommit, DiskSpace disk, Deliveries deliveries) {
        this.lifecycle = lifecycle;
        this.db = db;
        this.groupCommit = groupCommit;
        this.disk = disk;
        this.deliveries = deliveries;
        ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "queue-writability");
            t.setDaemon(true);
            return t;
        });
        e.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.watch = e;
    }

    /**
     * Starts the watch, beating in {@code liveness} as {@code queue-writability}: a look may wait for a compaction or
     * a reopen, so its bound is five minutes beyond the interval.
     */
    void start(Duration interval, org.backstopmx.core.Liveness liveness) {
        long ms = Math.max(1, interval.toMillis());
        intervalMillis = ms;
        loop = liveness.register("queue-writability", Duration.ofMinutes(5).plus(interval));
        watch.scheduleWithFixedDelay(this::lookQuietly, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** Empty while the queue takes mail; else every reason it does not, in one line. */
    Optional<String> problem() {
        List<Reason> reasons = reasons();
        if (reasons.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(String.join("; ", reasons.stream().map(Reason::text).toList()));
    }

    /** One reason: {@code kind} names the condition, {@code text} says it with its figures for an operator. */
    private record Reason(String kind, String text) {
    }

    private List<Reason> reasons() {
        if (lifecycle.isClosed()) {
            return List.of(new Reason("closed", "the queue is closed"));
        }
        List<Reason> reasons = new ArrayList<>(3);
        db.lost().ifPresent(e -> reasons.add(new Reason("lost", "its database is closed and not reopened yet (" + Reasons.brief(e) + ")")));
        groupCommit.lastFailure().ifPresent(e -> reasons.add(new Reason("commit", "the last write to its database"
                + " failed (" + Reasons.brief(e) + ")")));
        long usable = disk.usable();
        if (usable < disk.reserve()) {
            reasons.add(new Reason("space", usable + " bytes free on its file system, below the free-space reserve of "
                    + disk.reserve() + " bytes"));
        }
        return reasons;
    }

    /**
     * One look of the watch, in the caller's thread: reopens a lost database, probes writing after a failed group
     * commit when there is room, and logs a change of the answer.
     */
    void look() {
        if (!lifecycle.tryEnter()) {
            return;
        }
        try {
            if (db.lost().isPresent()) {
                db.reopen();
            }
            if (groupCommit.lastFailure().isPresent() && db.lost().isEmpty() && disk.hasRoomFor(0)) {
                try {
                    groupCommit.awaitDurable(null); // an empty round: CHECKPOINT SYNC; success clears the failure
                } catch (java.io.SyncFailedException | org.backstopmx.core.QueueException e) {
                    // still failing: the answer says why
                }
            }
            List<Reason> reasons = reasons();
            if (reasons.isEmpty()) {
                try {
                    deliveries.releaseUnrecorded(); // outcomes lost to the failure: due again now, not in 15 minutes
                } catch (org.backstopmx.core.QueueException e) {
                    // the database fails again: the next look tries again
                }
            }
            String kinds = String.join(",", reasons.stream().map(Reason::kind).toList());
            if (!kinds.equals(told)) {
                // logged when the set of reasons changes, not when a figure in one of them does
                if (reasons.isEmpty()) {
                    LOG.warn("queue takes mail again");
                } else {
                    LOG.warn("queue does not take mail: {}",
                            String.join("; ", reasons.stream().map(Reason::text).toList()));
                }
                told = kinds;
            }
        } finally {
            lifecycle.exit();
        }
    }

    private void lookQuietly() {
        org.backstopmx.core.Liveness.Loop l = loop;
        l.beat();
        try {
            look();
            l.succeeded();
        } catch (Throwable t) {
            // a scheduled task that throws is never run again: the watch outlives whatever one look meets, and the
            // loop says so once per run of failures rather than every second
            l.failed("watching whether the queue takes mail (looked at again every " + intervalMillis + " ms)", t);
        }
    }

    /** Stops the watch and waits for a look in progress; never interrupts it (it may be inside H2). */
    @Override
    public void close() {
        watch.shutdown();
        try {
            watch.awaitTermination(2, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        org.backstopmx.core.Liveness.Loop l = loop;
        if (l != null) {
            l.stopped();
        }
    }
}
