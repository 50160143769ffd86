package org.backstopmx.forwarder.delivery;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BooleanSupplier;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.Liveness;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueException;
import org.backstopmx.forwarder.DomainNames;
import org.backstopmx.forwarder.FailurePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which destinations (keyed by recipient domain) are down, the probes that find them up again, and the flush that
 * follows. A destination is down once a session could not be opened with any of its hosts
 * ({@link FailurePolicy#marksDestinationDown}); while down, its recipients coming due are deferred without a
 * connection (no thundering herd on a primary that is starting up) and only the probe (connect, EHLO, QUIT) knocks,
 * every {@code probe.interval}. The first session that opens (probe, delivery or ETRN) marks it up again, and its whole
 * queue is made due at once ({@link MailQueue#flush}): the flush.
 *
 * <p>Moves no recipient state itself except through the flush (pending recipients become due now). A probe that fails
 * for any reason keeps the destination down until the next one; a failure of our own is reported to the probe loop
 * of {@link Liveness}. A flush that cannot reach the queue is logged: the mail then goes at each recipient's next
 * retry.
 *
 * <p>Thread-safe. State is in memory only: after a restart every destination is presumed up, and each with mail
 * waiting is probed once at start ({@link #probeWaiting}).
 */
final class DownDestinations {
    private static final Logger LOG = LoggerFactory.getLogger(DownDestinations.class);

    /**
     * A destination that is down.
     *
     * @param since     when it was marked down
     * @param nextProbe when the probe knocks next
     * @param failure   what the last attempt came to: what its deferred recipients record
     * @param probes    failed probes since it went down
     */
    record Down(Instant since, Instant nextProbe, DeliveryOutcome failure, int probes) {
    }

    /** Told about every change, for metrics. */
    interface Listener {
        void changed(String destination, boolean up);
    }

    private final Map<String, Down> down = new ConcurrentHashMap<>();
    /** Flushes asked for and not run yet ({@link #requestFlush}); the scheduler runs them ({@link #runRequested}). */
    private final Set<String> requested = ConcurrentHashMap.newKeySet();
    private final ProbeClaims probing;
    private final Duration probeInterval;
    private final Connector connector;
    private final MailQueue queue;
    private final Executor probes;
    private final Runnable wake;
    private final Clock clock;
    private volatile Listener listener = (d, up) -> { };
    private volatile Liveness.Loop probeLoop;

    /**
     * @param probes where probes run (the delivery pool)
     * @param wake   tells the scheduler that a flush made mail due
     */
    DownDestinations(Duration probeInterval, Connector connector, MailQueue queue, Executor probes, Runnable wake,
            Clock clock) {
        this.probeInterval = probeInterval;
        this.connector = connector;
        this.queue = queue;
        this.probes = probes;
        this.probing = new ProbeClaims(probes);
        this.wake = wake;
        this.clock = clock;
        this.probeLoop = new Liveness(clock).register("backstop-probe", null);
    }

    void listener(Listener l) {
        this.listener = l;
    }

    /** Where probe failures of our own are reported from now on. */
    void watch(Liveness.Loop loop) {
        this.probeLoop = loop;
    }

    Optional<Down> down(String destination) {
        return Optional.ofNullable(down.get(destination));
    }

    boolean isDown(String destination) {
        return down.containsKey(destination);
    }

    /** Marks the destination down (or keeps it down with the newer failure); returns true when it was up. */
    boolean markDown(String destination, DeliveryOutcome failure, Instant now) {
        Down before = down.putIfAbsent(destination, new Down(now, now.plus(probeInterval), failure, 0));
        if (before == null) {
            LOG.warn("destination {} is down: {}; its mail is deferred and it is probed every {}", destination,
                    failure.describe(), probeInterval);
            listener.changed(destination, false);
            return true;
        }
        return false;
    }

    /** A session to the destination opened: it is up, and flushed if it was down. */
    void answered(String destination) {
        if (markUp(destination, clock.instant())) {
            flushQuietly(destination);
        }
    }

    /**
     * Flushes {@code domain}: marks its destination up and makes all its pending mail due now.
     *
     * @return how many of its recipients are pending (0: nothing waiting)
     */
    int flush(String domain) throws QueueException {
        String d = DomainNames.normalize(domain);
        markUp(d, clock.instant());
        int pending = queue.flush(d);
        if (pending > 0) {
            LOG.info("flushing {}: {} recipients pending", d, pending);
            wake.run();
        }
        return pending;
    }

    /**
     * Asks for a flush of {@code domain} without waiting for the queue: marks it up now and wakes the scheduler, which
     * flushes it at its next turn ({@link #runRequested}). For ETRN, answered once this returns, as Postfix answers
     * {@code 250 Queuing started}: the client's session never waits for the queue (a compaction, a busy disk).
     */
    void requestFlush(String domain) {
        String d = DomainNames.normalize(domain);
        markUp(d, clock.instant());
        requested.add(d);
        wake.run();
    }

    /** Runs, in this thread (the scheduler's), the flushes asked for since the last call. */
    void runRequested() {
        for (String d : List.copyOf(requested)) {
            if (requested.remove(d)) {
                flushQuietly(d);
            }
        }
    }

    /** Probes, in the pool, every down destination whose probe is due and not already running. */
    void probeDue() {
        probing.runInPool(claimProbes(clock.instant()), this::probe);
    }

    /** Probes, in this thread, every down destination whose probe is due; returns those that came up. */
    List<String> probeNow() {
        List<String> up = new ArrayList<>();
        for (String destination : claimProbes(clock.instant())) {
            if (probe(destination)) {
                up.add(destination);
            }
        }
        return up;
    }

    /**
     * At start, each destination with mail waiting is asked once (connect, EHLO, QUIT) whether it answers: a backup MX
     * that restarts (after a crash, an upgrade) may find its primary back, and the mail it deferred, due again only
     * at each recipient's next retry (minutes to an hour away), then goes out at once. One that does not answer is
     * marked down, as a refused delivery would mark it, and probed from then on.
     */
    void probeWaiting(BooleanSupplier stopping) {
        Set<String> waiting;
        try {
            waiting = queue.pendingDomains();
        } catch (QueueException | RuntimeException e) {
            LOG.warn("cannot list the destinations with mail waiting ({}); their mail goes out at its next retry",
                    e.toString());
            return;
        }
        for (String destination : waiting) {
            if (stopping.getAsBoolean()) {
                return;
            }
            try {
                probes.execute(() -> probeAtStart(destination));
            } catch (RejectedExecutionException e) {
                return; // closing
            }
        }
    }

    /** When the earliest probe is due, if any destination is down. */
    Optional<Instant> nextProbe() {
        return down.values().stream().map(Down::nextProbe).min(Instant::compareTo);
    }

    private void probeAtStart(String destination) {
        try {
            Optional<DeliveryOutcome> failure = connector.probe(destination);
            if (failure.isEmpty()) {
                LOG.info("destination {} answers at start: its waiting mail goes out now", destination);
                flush(destination);
            } else {
                markDown(destination, failure.get(), clock.instant());
            }
            probeLoop.succeeded();
        } catch (Throwable t) {
            probeLoop.failed("probe of " + destination + " at start", t);
        }
    }

    private boolean probe(String destination) {
        try {
            Optional<DeliveryOutcome> failure = connector.probe(destination);
            if (failure.isEmpty()) {
                answered(destination);
                probeLoop.succeeded();
                return true;
            }
            probeFailed(destination, failure.get(), clock.instant());
            probeLoop.succeeded();
            return false;
        } catch (Throwable t) {
            probeLoop.failed("probe of " + destination, t);
            try {
                probeFailed(destination, FailurePolicy.localError(t), clock.instant());
            } catch (RuntimeException e) {
                LOG.debug("probe of {}: cannot record the failure", destination, e);
            }
            return false;
        } finally {
            probing.done(destination);
        }
    }

    /** A probe failed: the next one is an interval later. */
    private void probeFailed(String destination, DeliveryOutcome failure, Instant now) {
        down.computeIfPresent(destination, (k, d) -> new Down(d.since(), now.plus(probeInterval), failure,
                d.probes() + 1));
        LOG.info("destination {} is still down: {}", destination, failure.describe());
    }

    /** Marks the destination up; returns true when it was down (the caller then flushes its queue). */
    private boolean markUp(String destination, Instant now) {
        Down before = down.remove(destination);
        if (before != null) {
            LOG.info("destination {} is up again after {} (down since {})", destination,
                    Duration.between(before.since(), now), before.since());
            listener.changed(destination, true);
            return true;
        }
        return false;
    }

    /** The down destinations whose probe is due at {@code now} and not already running, now marked as probing. */
    private List<String> claimProbes(Instant now) {
        return probing.claim(down, Down::nextProbe, now);
    }

    private void flushQuietly(String domain) {
        try {
            flush(domain);
        } catch (QueueException e) {
            LOG.error("cannot flush {}: {}; its mail goes out at each recipient's next retry", domain, e.getMessage());
        }
    }
}
