package org.backstopmx.forwarder.delivery;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.backstopmx.core.Lease;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the leases of every job the forwarder holds, waiting in a lane or being delivered: the scheduler renews them
 * all ({@link MailQueue#renewLeases}) every third of the lease time, so that a lease can be short (the recipients of
 * a node that dies are taken by the others within a lease time) while an attempt lasts as long as its timeouts let
 * it. A renewed lease keeps its claim's token, so the attempt records under the lease it was handed.
 *
 * <p>A job whose lease was lost (it ran out while renewals failed, another node took the recipient, the message was
 * deleted) is dropped before it starts, never delivered knowingly twice: its worker skips it, and the leases of the
 * job that still held are given back. A job already running when its lease is lost goes on (its session is past the
 * point of no return, perhaps); its outcome for that recipient is not recorded.
 *
 * <p>The start margin follows from the renewal: a job starts only while its lease lasts at least until the next
 * renewal ({@link #interval()}), so a running attempt is renewed before its lease can run out. With renewals on time
 * a held lease always has two thirds of the lease time left; only renewals that fail for a third of it keep jobs
 * from starting.
 *
 * <p>Thread-safe: the jobs are guarded by this object's monitor; {@link #renewDue} runs on the scheduler thread.
 */
final class LeaseKeeper {
    private static final Logger LOG = LoggerFactory.getLogger(LeaseKeeper.class);
    /** How soon a renewal that failed is tried again. */
    static final Duration RETRY = Duration.ofSeconds(1);

    /** What the keeper knows of one job. Guarded by the keeper's monitor. */
    private static final class Held {
        Instant until;
        boolean started;
        boolean lost;

        Held(Instant until) {
            this.until = until;
        }
    }

    private final MailQueue queue;
    private final Duration leaseTime;
    private final Duration interval;
    private final Clock clock;
    private final Map<Job, Held> held = new IdentityHashMap<>();
    /** When the next renewal is due (scheduler thread only). */
    private Instant nextRenewal;

    LeaseKeeper(MailQueue queue, Duration leaseTime, Clock clock) {
        this.queue = queue;
        this.leaseTime = leaseTime;
        this.interval = leaseTime.dividedBy(3);
        this.clock = clock;
        this.nextRenewal = clock.instant().plus(interval);
    }

    /** How often the leases are renewed: a third of the lease time. */
    Duration interval() {
        return interval;
    }

    /** {@code job} is handed to a lane: its leases are renewed from now on. */
    synchronized void hold(Job job) {
        held.put(job, new Held(job.leases().get(0).leaseUntil()));
    }

    /** {@code job} is done with (recorded, given back, dropped): its leases are no longer renewed. */
    synchronized void forget(Job job) {
        held.remove(job);
    }

    /** How many jobs are held now. */
    synchronized int held() {
        return held.size();
    }

    /**
     * At the start of {@code job}'s attempt: true when it may start (its lease holds and lasts past the next
     * renewal); from then on a lost lease no longer drops it. A job the keeper does not hold (never handed to a lane)
     * may start while its lease lasts {@link #interval()}.
     */
    synchronized boolean start(Job job) {
        Held h = held.get(job);
        Instant until = h == null ? job.leases().get(0).leaseUntil() : h.until;
        if ((h != null && h.lost) || clock.instant().plus(interval).isAfter(until)) {
            return false;
        }
        if (h != null) {
            h.started = true;
        }
        return true;
    }

    /** When {@link #renewDue} next has work, or empty while no job is held. */
    synchronized java.util.Optional<Instant> nextRenewal() {
        return held.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(nextRenewal);
    }

    /**
     * Renews the leases of every job held, when a renewal is due; drops the jobs whose leases were lost and had not
     * started, giving back what they still held. Returns how many jobs were dropped. Never throws for a queue
     * failure: the leases run out at their old end unless the next try, a second later, renews them.
     */
    int renewDue() {
        Instant now = clock.instant();
        if (now.isBefore(nextRenewal)) {
            return 0;
        }
        List<Job> jobs;
        List<Lease> leases = new ArrayList<>();
        synchronized (this) {
            jobs = held.entrySet().stream().filter(e -> !e.getValue().lost).map(Map.Entry::getKey).toList();
        }
        jobs.forEach(j -> leases.addAll(j.leases()));
        if (leases.isEmpty()) {
            nextRenewal = now.plus(interval);
            return 0;
        }
        List<Lease> renewed;
        try {
            renewed = queue.renewLeases(leases, leaseTime);
        } catch (QueueException | RuntimeException e) {
            nextRenewal = now.plus(RETRY);
            LOG.warn("cannot renew the leases of {} jobs ({}); tried again in {} s, they run out at their end meanwhile",
                    jobs.size(), e.getMessage(), RETRY.toSeconds());
            return 0;
        }
        nextRenewal = now.plus(interval);
        return settle(jobs, renewed);
    }

    /** Moves each job's end to its renewed leases' and drops those that lost one before starting. */
    private int settle(List<Job> jobs, List<Lease> renewed) {
        Map<String, Instant> until = new java.util.HashMap<>();
        for (Lease l : renewed) {
            until.put(key(l), l.leaseUntil());
        }
        List<Lease> giveBack = new ArrayList<>();
        Set<Job> dropped = new HashSet<>();
        synchronized (this) {
            for (Job job : jobs) {
                Held h = held.get(job);
                if (h == null) {
                    continue; // finished meanwhile
                }
                List<Lease> kept = job.leases().stream().filter(l -> until.containsKey(key(l))).toList();
                if (kept.size() == job.leases().size()) {
                    h.until = kept.stream().map(l -> until.get(key(l))).min(Instant::compareTo).orElseThrow();
                } else if (!h.started && !h.lost) {
                    h.lost = true;
                    giveBack.addAll(kept);
                    dropped.add(job);
                } else if (!h.lost) {
                    h.lost = true; // running: it goes on, and what still holds is renewed with it
                    h.until = kept.stream().map(l -> until.get(key(l))).min(Instant::compareTo).orElse(h.until);
                    LOG.warn("{}: {} of {} leases to {} lost while being delivered; their outcome is not recorded",
                            job.id(), job.leases().size() - kept.size(), job.leases().size(), job.domain());
                }
            }
        }
        for (Job job : dropped) {
            LOG.warn("{}: lease for {} recipients to {} lost while waiting (taken by another node, run out or"
                    + " deleted); not delivered here", job.id(), job.leases().size(), job.domain());
        }
        if (!giveBack.isEmpty()) {
            try {
                queue.releaseLeases(giveBack);
            } catch (QueueException | RuntimeException e) {
                LOG.debug("{} leases of dropped jobs not given back ({}); they run out by themselves",
                        giveBack.size(), e.getMessage());
            }
        }
        return dropped.size();
    }

    private static String key(Lease l) {
        return l.recipientId() + " " + l.owner();
    }
}
