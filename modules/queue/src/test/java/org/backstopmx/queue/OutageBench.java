package org.backstopmx.queue;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.Lease;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueueStats;
import org.backstopmx.core.RetryPolicy;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.core.SmtpStage;
import org.backstopmx.core.config.RetryConfig;
import org.backstopmx.testkit.MutableClock;

/**
 * A day-long outage of the primary on a real H2 queue on disk, not a test:
 * <pre>
 *   mvn -q -pl modules/queue -am test-compile exec:java -Dexec.mainClass=org.backstopmx.queue.OutageBench \
 *       [-Dexec.args="messages hours"]
 * </pre>
 * Defaults: 100 000 messages (one recipient each, {@value #DOMAINS} domains, 1 KiB bodies) over 24 simulated hours, in a
 * fresh temporary directory (deleted afterwards). The queue's clock moves one minute per step. Each step accepts its
 * share of the trickle through {@link MailQueue#receive} (so the backlog grows steadily to {@code messages}), and runs
 * the forwarder's cycle with the primary down: claim the due recipients 100 at a time and record them deferred in one
 * {@code recordOutcomes} per claim, with the default retry policy's backoff (5 to 67 minutes). Every 30 simulated
 * minutes every domain is flushed (ETRN); every 2 hours, a quarter past, a probe finds the primary up, the domains are
 * flushed and the whole backlog deferred again as the first delivery fails. The queue is closed and reopened after the
 * 8th and the 16th hour (each start timed, with the file it opened). Beside the trickle, one message is accepted every
 * {@value #SENTINEL_MS} ms of wall time, so that any pause of accepting is seen, whatever the simulation is doing.
 *
 * <p>Printed every simulated hour: the database file, H2's estimate of the live data (what the compaction trigger uses),
 * the rows (messages, deferred recipients, attempt history), the longest accept (receive to durable commit) in that hour, the heap
 * after a GC; each compaction as it happens, with how long the database was offline for it (accepts are answered
 * meanwhile from their spool files; the longest accept of the hour shows whether any waited).
 */
public final class OutageBench {
    static final int DOMAINS = 10;
    static final long SENTINEL_MS = 100;
    private static final int BATCH = 100;
    private static final Duration LEASE = Duration.ofMinutes(5);
    private static final DeliveryOutcome DOWN = new DeliveryOutcome.Transient(
            SmtpReply.of(421, "4.4.1", "primary down"), "primary.example.org", SmtpStage.CONNECT, "connection refused");

    private final MutableClock clock = MutableClock.startingAt("2026-01-05T00:00:00Z");
    private final RetryPolicy policy = new RetryPolicy(RetryConfig.defaults(), Duration.ofDays(5),
            new SplittableRandom(7));
    private final Path dir;
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong longestAcceptNanos = new AtomicLong();
    private final AtomicLong deferrals = new AtomicLong();
    private volatile H2MailQueue queue;
    private long compactionsSeen;

    private OutageBench(Path dir) {
        this.dir = dir;
    }

    public static void main(String[] args) throws Exception {
        int messages = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int hours = args.length > 1 ? Integer.parseInt(args[1]) : 24;
        Path dir = Files.createTempDirectory("outage-bench");
        try {
            new OutageBench(dir).run(messages, hours);
        } finally {
            BacklogBench.deleteTree(dir);
        }
        System.exit(0); // exec:java waits for every thread otherwise
    }

    private void run(int messages, int hours) throws Exception {
        System.out.printf("%d messages over %d simulated hours, flush every 30 min, probe re-deferral every 2 h%n",
                messages, hours);
        System.out.printf("%4s %8s %8s %8s %9s %9s %9s %10s %9s %8s%n", "hour", "file MB", "live MB", "messages",
                "deferred", "attempts", "passes/h", "accept max", "heap MiB", "wall s");
        open();
        AtomicBoolean stop = new AtomicBoolean();
        Thread sentinel = new Thread(() -> sentinel(stop), "sentinel");
        sentinel.start();
        long wall0 = System.nanoTime();
        int minutes = hours * 60;
        int passes = 0;
        for (int minute = 1; minute <= minutes; minute++) {
            clock.advance(Duration.ofMinutes(1));
            long target = (long) messages * minute / minutes;
            while (accepted.get() < target) {
                accept();
            }
            if (minute % 30 == 0 || minute % 120 == 15) {
                for (int d = 0; d < DOMAINS; d++) {
                    queue.flush(domain(d)); // ETRN, or the probe that found the primary up
                }
                passes++;
            }
            forwarderCycle();
            reportCompactions(minute);
            if (minute % 60 == 0) {
                hourLine(minute / 60, passes, wall0);
                passes = 0;
                if (minute / 60 == 8 || minute / 60 == 16) {
                    restart();
                }
            }
        }
        stop.set(true);
        sentinel.join();
        queue.close();
        System.out.printf("compactions: %d; deferrals recorded: %d%n", compactionsSeen, deferrals.get());
    }

    private void open() throws Exception {
        long size = Files.exists(dir.resolve(QueueDatabase.FILE_NAME)) ? Files.size(dir.resolve(QueueDatabase.FILE_NAME)) : 0;
        long t0 = System.nanoTime();
        H2MailQueue q = H2MailQueue.open(TestMessages.config(dir), TestMessages.MAX_MESSAGE_SIZE, clock);
        long took = (System.nanoTime() - t0) / 1_000_000;
        q.onArrival(new MailQueue.ArrivalListener() {
            @Override
            public Instant firstAttempt(String domain, Instant now) {
                return now; // tried at once, and deferred: the primary is down
            }

            @Override
            public void arrived(Envelope envelope) {
            }
        });
        compactionsSeen = 0;
        queue = q;
        if (size > 0) {
            System.out.printf("restart: open took %d ms with a %.1f MB file%n", took, size / 1e6);
        }
    }

    private void restart() throws Exception {
        synchronized (this) { // the sentinel does not accept meanwhile
            queue.close();
            open();
        }
    }

    /** One accept from receive to the durable commit; the longest of the hour is kept. */
    private void accept() throws Exception {
        QueueId id = QueueId.next(clock);
        long t0 = System.nanoTime();
        try (IncomingMessage m = queue.receive(id)) {
            m.body().write(TestMessages.body(id, 1024));
            m.commit(TestMessages.envelope(id, clock, 1024, "sender@example.net",
                    "r" + accepted.get() + "@" + domain(java.util.concurrent.ThreadLocalRandom.current().nextInt(DOMAINS))));
        }
        longestAcceptNanos.accumulateAndGet(System.nanoTime() - t0, Math::max);
        accepted.incrementAndGet();
    }

    private void sentinel(AtomicBoolean stop) {
        while (!stop.get()) {
            try {
                synchronized (this) {
                    accept();
                }
                Thread.sleep(SENTINEL_MS);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** Claims what is due, 100 at a time, and records each claim deferred in one call, as while the primary is down. */
    private void forwarderCycle() throws Exception {
        while (true) {
            List<Lease> leases = queue.leaseDue(BATCH, LEASE);
            if (leases.isEmpty()) {
                return;
            }
            Instant now = clock.instant();
            List<MailQueue.Attempt> batch = new ArrayList<>(leases.size());
            for (Lease l : leases) {
                batch.add(new MailQueue.Attempt(l, DOWN, policy.decide(l.state(), DOWN, l.attempts(),
                        l.firstQueuedAt(), now)));
            }
            queue.recordOutcomes(batch);
            deferrals.addAndGet(batch.size());
        }
    }

    private void reportCompactions(int minute) {
        long n = queue.compactions();
        if (n != compactionsSeen) {
            compactionsSeen = n;
            queue.maintenance().lastCompaction().ifPresent(c -> System.out.printf(
                    "  compaction at %02d:%02d: %.1f -> %.1f MB (live about %.1f MB), offline %d ms%n",
                    minute / 60, minute % 60, c.sizeBefore() / 1e6, c.sizeAfter() / 1e6, c.liveEstimate() / 1e6,
                    c.took().toMillis()));
        }
    }

    private void hourLine(int hour, int passes, long wall0) throws Exception {
        QueueStats stats = queue.stats();
        System.gc();
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        long attempts = queue.read(c -> {
            try (java.sql.Statement s = c.createStatement();
                    java.sql.ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM attempt")) {
                rs.next();
                return rs.getLong(1);
            }
        });
        System.out.printf("%4d %8.1f %8.1f %8d %9d %9d %9d %8.0fms %9.1f %8.0f%n", hour,
                queue.databaseFileSize() / 1e6, queue.liveDataEstimate() / 1e6, stats.messages(),
                stats.recipients().get(org.backstopmx.core.RecipientState.DEFERRED), attempts, passes,
                longestAcceptNanos.getAndSet(0) / 1e6, heap / 1048576.0, (System.nanoTime() - wall0) / 1e9);
    }

    static String domain(int i) {
        return "d" + i + ".example.org";
    }
}
