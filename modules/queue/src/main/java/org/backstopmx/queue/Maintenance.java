package org.backstopmx.queue;

import java.io.IOException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.backstopmx.core.Liveness;
import org.backstopmx.core.QueueException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides when to look at the database size, off the threads that receive and deliver mail.
 *
 * <p>Every write leaves garbage in the file, inserts included: copy-on-write pages plus chunks that never get rewritten
 * (measured: 200 000 inserts and no deletes made a 1.1 GB file for 45 MB of live data). So a check runs after every
 * {@link #CHECK_EVERY_WRITES} rows written (a batch of 200 deferrals counts 200: counted by call, a drain re-deferring a
 * whole backlog in batches hardly moved the count), and on a timer for the quiet time after a backlog drained, the
 * first time {@link #FIRST_CHECK} after the start (a process restarted more often than the interval was never
 * checked by the timer). A check
 * is a {@code stat} while the file is under {@code compact-min-size}, and one approximate-size query (25-50 ms on a
 * 45 MB queue) above it; only a due check compacts. Checks and compactions never overlap.
 *
 * <p>A check that fails in any way (an {@link Error} included) is reported to {@link Liveness} (logged once per run of
 * failures) and the timer goes on: an exception out of a periodic task would cancel every later run, silently. The
 * thread beats at every check; one stuck in a check for longer than {@link #bound} makes the process not live.
 */
final class Maintenance implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Maintenance.class);
    static final int CHECK_EVERY_WRITES = 2000;
    static final Duration CHECK_INTERVAL = Duration.ofMinutes(5);
    static final Duration FIRST_CHECK = Duration.ofSeconds(30);

    private final Compactor compactor;
    private final Clock clock;
    private final Liveness liveness;
    private final Duration interval;
    private final ScheduledExecutorService executor;
    private volatile Liveness.Loop loop;
    private final AtomicLong writes = new AtomicLong();
    private final AtomicBoolean checkQueued = new AtomicBoolean();
    private final AtomicLong compactions = new AtomicLong();
    private volatile Instant lastCheck;
    private volatile Compaction lastCompaction;

    Maintenance(Compactor compactor, Clock clock, Liveness liveness) {
        this(compactor, clock, liveness, CHECK_INTERVAL);
    }

    /** @param interval how often the timer checks ({@link #CHECK_INTERVAL} but in tests) */
    Maintenance(Compactor compactor, Clock clock, Liveness liveness, Duration interval) {
        this.compactor = compactor;
        this.clock = clock;
        this.liveness = liveness;
        this.interval = interval;
        ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "queue-maintenance");
            t.setDaemon(true);
            return t;
        });
        e.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.executor = e;
    }

    void start() {
        loop = liveness.register("queue-maintenance", bound(interval));
        long millis = interval.toMillis();
        executor.scheduleWithFixedDelay(this::checkQuietly, Math.min(millis, FIRST_CHECK.toMillis()), millis,
                TimeUnit.MILLISECONDS);
    }

    /** The longest between two checks: the interval, and a compaction of a large file. */
    static Duration bound(Duration interval) {
        return interval.plus(Duration.ofMinutes(15));
    }

    /** Called after every commit and deletion with the rows it wrote; cheap, and never blocks the caller. */
    void wrote(int rows) {
        long after = writes.addAndGet(Math.max(rows, 1));
        long before = after - Math.max(rows, 1);
        if (after / CHECK_EVERY_WRITES != before / CHECK_EVERY_WRITES && checkQueued.compareAndSet(false, true)) {
            try {
                executor.execute(() -> {
                    checkQueued.set(false);
                    checkQuietly();
                });
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                checkQueued.set(false);
            }
        }
    }

    /** Checks now, in the caller's thread, and compacts if due (tests and admin). */
    synchronized Optional<Compaction> runCheck() throws QueueException, SQLException, IOException {
        lastCheck = clock.instant();
        Compactor.Check check = compactor.check();
        if (!check.due()) {
            LOG.debug("queue maintenance: file {} bytes, live data about {}: no compaction needed", check.fileSize(),
                    check.liveEstimate());
            return Optional.empty();
        }
        return Optional.of(compact(check.liveEstimate()));
    }

    /** Compacts now, due or not. */
    synchronized Compaction compactNow() throws QueueException, SQLException, IOException {
        return compact(compactor.liveEstimate());
    }

    private Compaction compact(long liveEstimate) throws QueueException, SQLException, IOException {
        Compaction c = compactor.compact(liveEstimate);
        compactions.incrementAndGet();
        lastCompaction = c;
        return c;
    }

    /** The timer's task: never lets anything out, which would cancel every later run. */
    private void checkQuietly() {
        Liveness.Loop l = loop;
        if (l == null) {
            return; // not started: no timer runs (a check queued by wrote() before start)
        }
        l.beat();
        try {
            runCheck();
            l.succeeded();
        } catch (QueueException e) {
            if (e.kind() != QueueException.Kind.UNAVAILABLE) { // closing, or a maintenance window of its own
                l.failed("queue maintenance (tried again at the next check)", e);
            }
        } catch (Throwable t) {
            l.failed("queue maintenance (tried again at the next check)", t);
        }
    }

    Compactor compactor() {
        return compactor;
    }

    long compactions() {
        return compactions.get();
    }

    Optional<Compaction> lastCompaction() {
        return Optional.ofNullable(lastCompaction);
    }

    Optional<Instant> lastCheck() {
        return Optional.ofNullable(lastCheck);
    }

    /**
     * Stops the timer and waits for a check or compaction in progress. Not shutdownNow(): interrupting a compaction
     * would close H2's file channels under it (NIO channels close on interrupt) and could keep it from reopening.
     */
    @Override
    public void close() {
        executor.shutdown();
        try {
            executor.awaitTermination(2, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            // a runCheck() from another thread has finished once we get here
        }
        Liveness.Loop l = loop;
        if (l != null) {
            l.stopped();
        }
    }
}
