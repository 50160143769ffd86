package org.backstopmx.forwarder.delivery;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadFactory;
import org.backstopmx.core.Lease;
import org.backstopmx.core.Liveness;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler loop (like Postfix's {@code qmgr_active}): claims due recipients from the queue
 * ({@link MailQueue#leaseDue}), at most {@code maxInFlight} unrecorded at once, groups them into jobs (one message and
 * its recipients for one domain) and hands them to the {@link Lanes}; defers at once those of a destination that is
 * down; starts the probes that are due (of destinations down, and of primaries in standby mode) and runs the flushes
 * asked for by ETRN; renews the leases of the jobs it handed out ({@link LeaseKeeper}) every third of the lease time;
 * sleeps until new mail, a finished job, a flush asked for, the next due time, the next probe or the next renewal.
 * It waits on {@link InFlight}, which holds the in-flight count, the wake signal and the stop flag.
 *
 * <p>Moves recipients from due to leased (the claim) and gives back, due as they were, the claims a lane has no room
 * for or that a failure cut short, so nothing is left counted in flight. Nothing that goes wrong in a turn ends the
 * loop: the failure goes to {@link Liveness} (logged once per run of failures, with its cause) and the next turn comes
 * after a pause. Nothing interrupts it: {@link #stop()} raises the flag and signals, and the loop ends at its next
 * turn.
 */
final class DeliveryScheduler {
    private static final Logger LOG = LoggerFactory.getLogger(DeliveryScheduler.class);
    /** The scheduler re-reads the queue at least this often, whatever it was told. */
    private static final Duration MAX_SLEEP = Duration.ofSeconds(5);
    /** See {@link #fruitlessSkipAt}: how long mail of another destination may wait behind full lanes, at most. */
    private static final Duration SKIP_CLAIM_INTERVAL = Duration.ofSeconds(1);
    /** How long {@link #stop()} waits for the scheduler to finish the queue call it is in. */
    private static final Duration STOP_WAIT = Duration.ofSeconds(10);
    /**
     * The longest the scheduler may go without a turn before the process is reported not live: its waits are at most
     * {@link #MAX_SLEEP}, and a queue call waits two minutes at most for a compaction or an fsync.
     */
    static final Duration BOUND = Duration.ofMinutes(5);

    private final ForwarderSettings settings;
    private final MailQueue queue;
    private final Lanes lanes;
    private final LeaseKeeper keeper;
    private final DownDestinations down;
    private final PrimaryWatch standby;
    private final OutcomeRecorder recorder;
    private final ConnectionCache cache;
    private final Clock clock;

    private final InFlight inFlight;
    /** Destinations skipped by the last claim because their lanes were full (scheduler thread only). */
    private Set<String> saturated = Set.of();
    /**
     * When a claim that skipped full lanes last found nothing: such a claim asks every other destination with mail,
     * so it is not repeated within {@link #SKIP_CLAIM_INTERVAL} unless new work arrived.
     */
    private Instant fruitlessSkipAt = Instant.MIN;
    private Thread thread;
    private volatile Liveness.Loop deliveryLoop;

    /** @param inFlight the signals shared with the lanes (which count finished jobs out of it) */
    DeliveryScheduler(ForwarderSettings settings, MailQueue queue, InFlight inFlight, Lanes lanes, LeaseKeeper keeper,
            DownDestinations down, PrimaryWatch standby, OutcomeRecorder recorder, ConnectionCache cache,
            Liveness.Loop deliveryLoop, Clock clock) {
        this.keeper = keeper;
        this.standby = standby;
        this.inFlight = inFlight;
        this.settings = settings;
        this.queue = queue;
        this.lanes = lanes;
        this.down = down;
        this.recorder = recorder;
        this.cache = cache;
        this.deliveryLoop = deliveryLoop;
        this.clock = clock;
    }

    synchronized boolean started() {
        return thread != null;
    }

    /** Starts the scheduler thread, beating in {@code loop}; failures to give back claims go to {@code delivery}. */
    synchronized void start(ThreadFactory threads, Liveness.Loop loop, Liveness.Loop delivery) {
        if (thread != null) {
            throw new IllegalStateException("already started");
        }
        deliveryLoop = delivery;
        thread = threads.newThread(() -> schedule(loop));
        thread.start();
    }

    /**
     * Raises the stop flag, signals, and waits up to {@link #STOP_WAIT} for the thread to leave the
     * queue call it is in. Returns false when the wait was interrupted.
     */
    boolean stop() {
        inFlight.stop();
        Thread s;
        synchronized (this) {
            s = thread;
        }
        if (s == null) {
            return true;
        }
        try {
            s.join(STOP_WAIT.toMillis());
        } catch (InterruptedException e) {
            return false;
        }
        if (s.isAlive()) {
            LOG.warn("forwarder: the scheduler is still in a queue call after {} s; it stops when that returns",
                    STOP_WAIT.toSeconds());
        }
        return true;
    }

    /**
     * Delivers everything due now and returns when all of it is recorded (including what a flush made due meanwhile).
     *
     * @return how many recipients were claimed
     */
    int deliverDue() throws InterruptedException {
        int total = 0;
        while (true) {
            down.runRequested();
            keeper.renewDue();
            int n;
            try {
                n = dispatchDue();
            } catch (QueueException e) {
                LOG.error("cannot claim due mail: {}", e.getMessage());
                n = 0;
            }
            if (n != 0) {
                total += Math.max(n, 0);
                continue;
            }
            if (inFlight.settledOrWait()) {
                return total;
            }
        }
    }

    private void schedule(Liveness.Loop loop) {
        LOG.info("forwarder started: concurrency {} per destination, probe every {}", settings.concurrency(),
                settings.probeInterval());
        down.probeWaiting(inFlight::stopping);
        while (!inFlight.stopping()) {
            loop.beat();
            try {
                cache.closeStale();
                down.probeDue();
                standby.probeDue();
                down.runRequested();
                keeper.renewDue();
                if (dispatchDue() == 0) {
                    sleepUntilSomethingHappens();
                }
                loop.succeeded(); // a whole turn: a run of failures ends only when nothing in a turn failed
            } catch (Throwable t) {
                if (inFlight.stopping()) {
                    break;
                }
                inFlight.pause(loop.failed("scheduling deliveries", t));
            }
        }
        loop.stopped();
        LOG.info("forwarder stopped");
    }

    private void sleepUntilSomethingHappens() throws QueueException, InterruptedException {
        Instant now = clock.instant();
        Instant until = now.plus(MAX_SLEEP);
        Optional<Instant> due = queue.nextDue();
        // with lanes full, what is due may all be theirs: a finishing job (or new mail) wakes the scheduler instead
        if (due.isPresent() && due.get().isBefore(until) && (saturated.isEmpty() || due.get().isAfter(now))) {
            until = due.get();
        }
        for (Optional<Instant> probe : List.of(down.nextProbe(), standby.nextProbe(), keeper.nextRenewal())) {
            if (probe.isPresent() && probe.get().isBefore(until)) {
                until = probe.get();
            }
        }
        inFlight.sleep(Duration.between(now, until).toMillis());
    }

    /**
     * Claims what is due, as far as the in-flight bound allows, and hands it to the lanes. Returns how many were
     * claimed, or -1 after waiting for room: while jobs run, claims are made a batch at a time rather than one per
     * finished job, so the queue sees few large claims.
     */
    private int dispatchDue() throws InterruptedException, QueueException {
        int room = inFlight.roomOrWait(settings.maxInFlight(), settings.leaseBatch());
        if (room < 0) {
            return -1; // jobs finishing make room
        }
        saturated = lanes.saturated();
        Instant now = clock.instant();
        if (!saturated.isEmpty() && !inFlight.newWork() && now.isBefore(fruitlessSkipAt.plus(SKIP_CLAIM_INTERVAL))) {
            return 0; // nothing but the full lanes' mail was due a moment ago, and no new mail came since
        }
        inFlight.takeNewWork();
        List<Lease> leases = queue.leaseDue(Math.min(room, settings.leaseBatch()), settings.leaseTime(), saturated);
        if (leases.isEmpty() && !saturated.isEmpty()) {
            fruitlessSkipAt = now;
        }
        if (leases.isEmpty()) {
            return 0;
        }
        inFlight.claimed(leases.size());
        if (inFlight.stopping()) {
            giveBack(leases);
            return 0;
        }
        List<Job> jobs = jobs(leases);
        List<Lease> excess = new ArrayList<>();
        int next = 0; // jobs before this one are in a lane, deferred or in excess
        try {
            while (next < jobs.size()) {
                String domain = jobs.get(next).domain();
                int end = next;
                while (end < jobs.size() && jobs.get(end).domain().equals(domain)) {
                    end++;
                }
                List<Job> domainJobs = jobs.subList(next, end);
                Optional<DownDestinations.Down> isDown = down.down(domain);
                if (isDown.isPresent()) {
                    next = end; // its jobs are finished here whatever happens
                    try {
                        recorder.deferForDown(domainJobs, isDown.get());
                    } finally {
                        domainJobs.forEach(inFlight::finished);
                    }
                    continue;
                }
                int laneRoom = lanes.room(domain);
                for (Job job : domainJobs) {
                    next++; // submit finishes the job itself if it cannot hand it to a lane
                    if (laneRoom-- > 0) {
                        keeper.hold(job); // before the lane: a worker may finish it at once
                        lanes.submit(job);
                    } else {
                        excess.addAll(job.leases());
                    }
                }
            }
        } catch (Throwable t) {
            // what was not handed out goes back now, so that it is neither counted in flight nor leased for nothing
            for (Job job : jobs.subList(next, jobs.size())) {
                excess.addAll(job.leases());
            }
            giveBack(excess);
            throw t;
        }
        if (!excess.isEmpty()) {
            giveBack(excess);
        }
        return leases.size() - excess.size();
    }

    /** Leases come grouped by domain; messages are kept together within a domain. */
    private static List<Job> jobs(List<Lease> leases) {
        Map<String, Map<QueueId, List<Lease>>> byDomain = new LinkedHashMap<>();
        for (Lease l : leases) {
            byDomain.computeIfAbsent(l.domain(), k -> new LinkedHashMap<>())
                    .computeIfAbsent(l.queueId(), k -> new ArrayList<>()).add(l);
        }
        List<Job> jobs = new ArrayList<>();
        byDomain.forEach((domain, ids) -> ids.forEach((id, ls) -> jobs.add(new Job(domain, id, ls))));
        return jobs;
    }

    /** Claims beyond a lane's room go back to the queue at once, due as they were, without an attempt. */
    private void giveBack(List<Lease> leases) {
        if (leases.isEmpty()) {
            return;
        }
        try {
            queue.releaseLeases(leases);
        } catch (QueueException e) {
            LOG.warn("cannot give back {} claims ({}); they come due when their lease ends", leases.size(),
                    e.getMessage());
        } catch (Throwable t) {
            deliveryLoop.failed("giving back " + leases.size() + " claims (they come due when their lease ends)", t);
        } finally {
            inFlight.done(leases.size());
        }
    }
}
