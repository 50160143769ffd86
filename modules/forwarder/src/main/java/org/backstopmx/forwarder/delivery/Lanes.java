package org.backstopmx.forwarder.delivery;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import org.backstopmx.core.Liveness;
import org.backstopmx.forwarder.smtp.RelayClient;

/**
 * One lane per destination (like Postfix's per-destination queues in {@code qmgr}): a FIFO of jobs and up to
 * {@code delivery.concurrency} workers, each holding one SMTP session and carrying job after job over it (RSET between
 * messages), without waiting for the last one's outcome to be durable ({@link OutcomePipeline}). A worker whose
 * lane runs dry parks its session in the {@link ConnectionCache}.
 *
 * <p>Moves no state: each job goes to a {@link DeliveryAttempt}. A job that fails in any way is left to its lease (its
 * recipients come due again), the failure goes to the delivery loop of {@link Liveness}, and the worker goes on with
 * the next; however a worker ends, its lane counts it out, so a lane never waits for a worker that is gone. Every job
 * handed to {@link #submit} is reported to {@code finished} exactly once, when its outcome is recorded (or has failed
 * to be).
 *
 * <p>Thread-safe: the map of lanes is guarded by itself, each lane by its own monitor (taken before the cache's).
 */
final class Lanes {
    /**
     * Jobs (messages) that may wait in one destination's lane, per connection it may open (see {@link #capacity()}):
     * a slow primary with a large backlog holds a bounded share of the claims, the other destinations' mail keeps
     * flowing, and on a shared queue the other nodes can take the rest of that backlog (what a lane holds is leased,
     * and renewed, as long as it waits).
     */
    static final int LANE_JOBS_PER_CONNECTION = 4;

    /** A domain's jobs and workers. Guarded by its own monitor. */
    private static final class Lane {
        final String domain;
        final Deque<Job> jobs = new ArrayDeque<>();
        int workers;

        Lane(String domain) {
            this.domain = domain;
        }
    }

    private final Map<String, Lane> lanes = new HashMap<>();
    private final int concurrency;
    private final int maxInFlight;
    private final Executor pool;
    private final DeliveryAttempt attempt;
    private final ConnectionCache cache;
    private final Consumer<Job> finished;
    private volatile Liveness.Loop deliveryLoop;
    private volatile boolean closed;

    /** @param finished told when a job handed to {@link #submit} is done with, whatever became of it */
    Lanes(ForwarderSettings settings, Executor pool, DeliveryAttempt attempt, ConnectionCache cache,
            Consumer<Job> finished, Liveness.Loop deliveryLoop) {
        this.concurrency = settings.concurrency();
        this.maxInFlight = settings.maxInFlight();
        this.pool = pool;
        this.attempt = attempt;
        this.cache = cache;
        this.finished = finished;
        this.deliveryLoop = deliveryLoop;
    }

    /** Where delivery failures are reported from now on. */
    void watch(Liveness.Loop loop) {
        this.deliveryLoop = loop;
    }

    /** Workers take no new job from now on; those running finish theirs. */
    void close() {
        closed = true;
    }

    /**
     * How many jobs may wait in one lane: {@value #LANE_JOBS_PER_CONNECTION} per connection, at most half the claims
     * in flight (so the other half is always there for other destinations). Not more: every job waiting holds its
     * leases, which the renewals keep, so a lane holding a large backlog would keep it from the other nodes of a
     * shared queue for as long as this one takes to deliver it.
     */
    int capacity() {
        return Math.max(1, Math.min(maxInFlight / 2, concurrency * LANE_JOBS_PER_CONNECTION));
    }

    /** How many more jobs {@code domain}'s lane takes now. */
    int room(String domain) {
        Lane lane = lane(domain);
        synchronized (lane) {
            return capacity() - lane.jobs.size();
        }
    }

    /**
     * The destinations a claim should skip: those whose lanes are at least half full. A lane is claimed for again once
     * half its jobs have started, so its workers do not run dry; what a claim brings beyond its room goes back at
     * once, due now, for the other nodes to take.
     */
    Set<String> saturated() {
        int threshold = Math.max(1, capacity() / 2);
        Set<String> full = new TreeSet<>();
        synchronized (lanes) {
            for (Lane lane : lanes.values()) {
                synchronized (lane) {
                    if (lane.jobs.size() >= threshold) {
                        full.add(lane.domain);
                    }
                }
            }
        }
        return full;
    }

    /** Queues {@code job} in its lane and starts a worker when the lane may have one more. */
    void submit(Job job) {
        Lane lane = lane(job.domain());
        boolean startWorker;
        synchronized (lane) {
            lane.jobs.add(job);
            startWorker = lane.workers < concurrency && lane.workers < lane.jobs.size();
            if (startWorker) {
                lane.workers++;
            }
        }
        if (startWorker) {
            try {
                pool.execute(() -> work(lane));
            } catch (Throwable t) { // closing, or no thread could be started
                synchronized (lane) {
                    lane.workers--;
                    lane.jobs.remove(job);
                }
                finished.accept(job); // the leases run out and the recipients come due again
                if (!(t instanceof RejectedExecutionException)) {
                    throw t;
                }
            }
        }
    }

    private Lane lane(String domain) {
        synchronized (lanes) {
            return lanes.computeIfAbsent(domain, Lane::new);
        }
    }

    /** A worker: carries the lane's jobs one after the other until none is left. */
    private void work(Lane lane) {
        RelayClient client = null;
        boolean counted = true;
        OutcomePipeline outcomes = new OutcomePipeline(pool, (job, t) -> deliveryLoop.failed(job.id()
                + ": recording the outcome of a delivery to " + job.domain()
                + " (its recipients come due when the lease ends)", t));
        try {
            while (true) {
                Job job;
                boolean awaitOutcome = false;
                synchronized (lane) {
                    job = closed ? null : lane.jobs.poll();
                    if (job == null && !closed && outcomes.pending()) {
                        awaitOutcome = true; // still counted: a job that comes meanwhile is this worker's
                    } else if (job == null) {
                        lane.workers--;
                        counted = false;
                        if (!closed && cache.park(lane.domain, client)) {
                            client = null;
                        }
                        return;
                    }
                }
                if (awaitOutcome) {
                    outcomes.awaitOldest();
                    continue;
                }
                OutcomePipeline.Slot slot = outcomes.next(job);
                try {
                    client = attempt.deliver(job, client, slot);
                    deliveryLoop.succeeded();
                } catch (Throwable t) {
                    deliveryLoop.failed(job.id() + ": delivery to " + job.domain()
                            + " (its recipients come due when the lease ends)", t);
                    ConnectionCache.closeQuietly(client);
                    client = null;
                } finally {
                    slot.whenRecorded(() -> finished.accept(job));
                }
            }
        } finally {
            if (counted) {
                synchronized (lane) {
                    lane.workers--;
                }
            }
            ConnectionCache.closeQuietly(client);
        }
    }
}
