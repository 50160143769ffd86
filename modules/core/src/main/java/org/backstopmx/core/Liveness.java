package org.backstopmx.core;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether every background loop of the process still turns: the answer behind {@code /health/live}.
 *
 * <p>A loop (the forwarder's scheduler, the queue's syncer, ...) registers when it starts and gets a {@link Loop}.
 * Its thread then goes like this, and never lets anything out of a turn:
 *
 * <pre>{@code
 * Liveness.Loop loop = liveness.register("backstop-scheduler", Duration.ofMinutes(5));
 * while (!stopping) {
 *     loop.beat();                                  // at least once per bound, waits included
 *     try {
 *         turn();
 *         loop.succeeded();
 *     } catch (Throwable t) {
 *         waitUnlessStopping(loop.failed("claiming due mail", t));
 *     }
 * }
 * loop.stopped();
 * }</pre>
 *
 * <p>Guarantees:
 * <ul>
 * <li>{@link Loop#failed} never throws. It logs the first failure of a run of failures with its cause and stack
 *     trace, then at most one line every {@value #REMINDER_MINUTES} minutes while the run lasts (how many, and the
 *     last one), and {@link Loop#succeeded} logs once that the run ended: a loop failing at every turn does not flood
 *     the log. It returns how long to pause before the next turn: {@value #FIRST_PAUSE_MILLIS} ms, doubling over the
 *     run up to {@value #MAX_PAUSE_SECONDS} s.</li>
 * <li>A loop can go on after anything but a {@link VirtualMachineError} other than {@link StackOverflowError} (whose
 *     stack is unwound by the time it is caught): after an {@link OutOfMemoryError} or an {@link InternalError} no
 *     part of the process can be trusted, so the loop is marked as unable to go on, for good, and
 *     {@link #problem()} names it until the process is restarted.</li>
 * <li>A loop whose last {@link Loop#beat} is older than its bound (stuck inside a turn, or no longer turning), or
 *     whose thread has ended without {@link Loop#stopped}, is named by {@link #problem()}; it is well again as soon
 *     as it beats.</li>
 * </ul>
 * Ages are read from the injected {@link Clock}. Thread-safe.
 */
public final class Liveness {
    private static final Logger LOG = LoggerFactory.getLogger(Liveness.class);
    static final int REMINDER_MINUTES = 10;
    static final long FIRST_PAUSE_MILLIS = 100;
    static final long MAX_PAUSE_SECONDS = 5;

    private final Clock clock;
    private final List<Loop> loops = new CopyOnWriteArrayList<>();

    public Liveness(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * A loop starting now, in the calling thread or in the thread that first {@linkplain Loop#beat beats}.
     *
     * @param name  the loop's name in the log and in {@link #problem()} (its thread's name, say)
     * @param bound the longest the loop may go without a beat; null for work that has no heartbeat of its own (a pool
     *              of delivery workers), whose failures are still logged once and may still make the process not live
     */
    public Loop register(String name, Duration bound) {
        if (bound != null && (bound.isZero() || bound.isNegative())) {
            throw new IllegalArgumentException("bound must be positive: " + bound);
        }
        Loop loop = new Loop(Objects.requireNonNull(name, "name"), bound);
        loops.add(loop);
        return loop;
    }

    /** Empty while every loop turns; otherwise one line naming each loop that does not, and why. */
    public Optional<String> problem() {
        Instant now = clock.instant();
        List<String> problems = new ArrayList<>();
        for (Loop loop : loops) {
            loop.problem(now).ifPresent(problems::add);
        }
        return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems));
    }

    /** Whether a loop can go on after {@code t}: anything but a VirtualMachineError other than a stack overflow. */
    public static boolean survivable(Throwable t) {
        return !(t instanceof VirtualMachineError) || t instanceof StackOverflowError;
    }

    /** One registered loop: its heartbeat and its run of failures. */
    public final class Loop {
        private final String name;
        private final Duration bound;
        private volatile Instant lastBeat;
        private volatile Thread thread;
        private volatile boolean stopped;
        private volatile String cannotGoOn;
        /** Failures since the last success; guarded by this for writes, read without it on the fast path. */
        private volatile long failures;
        private Instant runSince;
        private Instant lastReport;

        private Loop(String name, Duration bound) {
            this.name = name;
            this.bound = bound;
            this.lastBeat = clock.instant();
        }

        public String name() {
            return name;
        }

        /** The loop is turning (or waiting as it should): call at every turn, and at least once per bound. */
        public void beat() {
            lastBeat = clock.instant();
            thread = Thread.currentThread();
        }

        /** A turn went through: ends a run of failures, logging that once. */
        public void succeeded() {
            if (failures == 0) {
                return;
            }
            long n;
            synchronized (this) {
                n = failures;
                failures = 0;
                runSince = null;
                lastReport = null;
            }
            if (n > 0 && cannotGoOn == null) { // after an error it cannot go on from, it has not recovered
                LOG.info("{}: going on normally again after {} failure{}", name, n, n == 1 ? "" : "s");
            }
        }

        /**
         * A turn failed with {@code t}; logs it as the class says and returns how long to pause before the next turn.
         *
         * @param what what the turn was doing, for the log ("claiming due mail")
         */
        public Duration failed(String what, Throwable t) {
            try {
                return record(what, t);
            } catch (Throwable again) { // out of memory while logging, say: the loop must still go on
                return Duration.ofSeconds(MAX_PAUSE_SECONDS);
            }
        }

        private Duration record(String what, Throwable t) {
            Instant now = clock.instant();
            long n;
            boolean first;
            boolean remind;
            Instant since;
            synchronized (this) {
                n = ++failures;
                first = n == 1;
                if (first) {
                    runSince = now;
                    lastReport = now;
                }
                since = runSince;
                remind = !first && !now.isBefore(lastReport.plus(Duration.ofMinutes(REMINDER_MINUTES)));
                if (remind) {
                    lastReport = now;
                }
            }
            Duration pause = pause(n);
            if (!survivable(t)) {
                boolean news = cannotGoOn == null;
                cannotGoOn = what + ": " + t;
                if (news) {
                    LOG.error("{}: {} failed; the process cannot be trusted to go on after this, so /health/live"
                            + " fails from now on for its supervisor to restart it", name, what, t);
                    return pause;
                }
            }
            if (first) {
                LOG.error("{}: {} failed; going on", name, what, t);
            } else if (remind) {
                LOG.warn("{}: still failing: {} failures since {}, the last: {}: {}", name, n, since, what, t.toString());
            } else {
                LOG.debug("{}: {} failed again ({} in a row): {}", name, what, n, t.toString());
            }
            return pause;
        }

        private Duration pause(long n) {
            long millis = FIRST_PAUSE_MILLIS << Math.min(n - 1, 16);
            return Duration.ofMillis(Math.min(millis, Duration.ofSeconds(MAX_PAUSE_SECONDS).toMillis()));
        }

        /** Failures since the last success. */
        public long failures() {
            return failures;
        }

        /** The loop ended on purpose (the part that runs it is closing): no longer watched. */
        public void stopped() {
            stopped = true;
            loops.remove(this);
        }

        private Optional<String> problem(Instant now) {
            if (cannotGoOn != null) {
                return Optional.of(name + " cannot go on (" + cannotGoOn + ")");
            }
            if (stopped || bound == null) {
                return Optional.empty();
            }
            Thread t = thread;
            if (t != null && !t.isAlive()) {
                return Optional.of(name + " has ended (its thread " + t.getName() + " is gone)");
            }
            Duration since = Duration.between(lastBeat, now);
            if (since.compareTo(bound) > 0) {
                return Optional.of(name + " has not turned for " + since.toSeconds() + " s (at most "
                        + bound.toSeconds() + " s)");
            }
            return Optional.empty();
        }
    }
}
