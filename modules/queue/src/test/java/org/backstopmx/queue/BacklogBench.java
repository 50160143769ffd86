package org.backstopmx.queue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.Lease;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.RetryPolicy;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.core.SmtpStage;

/**
 * What a big backlog costs the queue, not a test:
 * <pre>
 *   mvn -q -pl modules/queue -am test-compile exec:java -Dexec.mainClass=org.backstopmx.queue.BacklogBench \
 *       [-Dexec.args="recipients,... perMessage"]
 * </pre>
 * Defaults: backlogs of 10 000, 100 000 and 1 000 000 recipients, 10 recipients per message (of one domain), in a fresh
 * temporary directory each (deleted afterwards), after a warm-up of 2 000. The backlog is spread over {@value #DOMAINS}
 * domains and queued as while the primary is down: each message first due at a random time in the next 4 000 s (the
 * longest backoff), but the last domain's mail due now, as a lane that is full leaves it. The database is compacted
 * then, so that no compaction runs during the timings. Timed: {@code stats()}; the per-domain snapshot of the gauges
 * (as they ask, and with every message about to expire); a flush of the first domain (a tenth of the backlog, as ETRN
 * does) and the first claim after it; a claim passing over the last domain (its lane full); the drain of the flushed
 * domain (claim 100, record them delivered) with its rate over the first and the last tenth. One table row per backlog.
 */
public final class BacklogBench {
    static final int DOMAINS = 10;
    private static final int BATCH = 100;
    private static final Duration LEASE = Duration.ofMinutes(10);
    private static final DeliveryOutcome DELIVERED = new DeliveryOutcome.Delivered(
            SmtpReply.of(250, "2.0.0", "Ok"), "primary.example.org", SmtpStage.DOT);

    private BacklogBench() {
    }

    public static void main(String[] args) throws Exception {
        String sizes = args.length > 0 ? args[0] : "10000,100000,1000000";
        int perMessage = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        List<String> rows = new ArrayList<>();
        run(2000, perMessage); // warm-up: the first backlog's figures would otherwise include the JIT's work
        for (String n : sizes.split(",")) {
            rows.add(run(Integer.parseInt(n.trim()), perMessage));
            System.out.println(header());
            rows.forEach(System.out::println);
        }
    }

    private static String header() {
        return String.format("%9s %8s %8s %8s %8s %9s %9s %9s %10s %10s %7s", "rcpts", "fill/s", "stats ms",
                "snap ms", "snap-all", "flush ms", "claim1 ms", "skip ms", "first10%/s", "last10%/s", "db MB");
    }

    private static String run(int recipients, int perMessage) throws Exception {
        Path dir = Files.createTempDirectory("backlog-bench");
        Clock clock = Clock.systemUTC();
        try (H2MailQueue queue = H2MailQueue.open(TestMessages.config(dir), TestMessages.MAX_MESSAGE_SIZE, clock)) {
            queue.onArrival(new MailQueue.ArrivalListener() {
                @Override
                public Instant firstAttempt(String domain, Instant now) {
                    return domain.equals(domain(DOMAINS - 1)) ? now
                            : now.plusMillis(ThreadLocalRandom.current().nextLong(60_000, 4_000_000));
                }

                @Override
                public void arrived(Envelope envelope) {
                }
            });
            double fillRate = fill(queue, clock, recipients / perMessage, perMessage);
            queue.compact(); // now, rather than by itself in the middle of a timing
            double statsMs = time(3, queue::stats);
            // as the gauges ask (mail older than the lifetime less the warning), and with every message about to expire
            double snapMs = time(3, () -> queue.domainSnapshot(clock.instant().minus(Duration.ofDays(4))));
            double snapAllMs = time(3, () -> queue.domainSnapshot(clock.instant().plus(Duration.ofDays(1))));
            long f0 = System.nanoTime();
            int flushed = queue.flush(domain(0));
            double flushMs = (System.nanoTime() - f0) / 1e6;
            long c0 = System.nanoTime();
            List<Lease> first = queue.leaseDue(BATCH, LEASE, Set.of(domain(DOMAINS - 1)));
            double claimMs = (System.nanoTime() - c0) / 1e6;
            queue.releaseLeases(first);
            // the last domain's tenth is due and its lane full: a claim for the others passes over it
            double skipMs = time(3, () -> queue.releaseLeases(
                    queue.leaseDue(BATCH, LEASE, Set.of(domain(0), domain(DOMAINS - 1)))));
            double[] rates = drain(queue, clock, flushed);
            return String.format("%9d %8.0f %8.2f %8.1f %8.0f %9.1f %9.1f %9.1f %10.0f %10.0f %7.0f", recipients,
                    fillRate, statsMs, snapMs, snapAllMs, flushMs, claimMs, skipMs, rates[0], rates[1], queue.databaseFileSize() / 1e6);
        } finally {
            deleteTree(dir);
        }
    }

    /** Queues {@code messages} messages of 1 KiB from 20 threads; returns recipients per second. */
    private static double fill(H2MailQueue queue, Clock clock, int messages, int perMessage) throws Exception {
        AtomicInteger next = new AtomicInteger();
        Thread[] workers = new Thread[20];
        long t0 = System.nanoTime();
        for (int t = 0; t < workers.length; t++) {
            workers[t] = new Thread(() -> {
                int i;
                while ((i = next.getAndIncrement()) < messages) {
                    QueueId id = QueueId.next(clock);
                    String[] rcpts = new String[perMessage];
                    for (int r = 0; r < perMessage; r++) {
                        rcpts[r] = "r" + r + "@" + domain(i % DOMAINS);
                    }
                    try (IncomingMessage m = queue.receive(id)) {
                        m.body().write(TestMessages.body(id, 1024));
                        m.commit(TestMessages.envelope(id, clock, 1024, "bench@example.net", rcpts));
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }
            });
            workers[t].start();
        }
        for (Thread w : workers) {
            w.join();
        }
        return (double) messages * perMessage / ((System.nanoTime() - t0) / 1e9);
    }

    /**
     * Claims and records delivered the flushed domain's recipients (and whatever else comes due meanwhile); prints the
     * rate over each tenth, returns those over the first and the last.
     */
    private static double[] drain(H2MailQueue queue, Clock clock, int flushed) throws Exception {
        int tenth = Math.max(BATCH, flushed / 10);
        long[] at = new long[11]; // at[k]: when k tenths were done
        int done = 0;
        int k = 1;
        at[0] = System.nanoTime();
        Set<String> skip = Set.of(domain(DOMAINS - 1));
        while (true) {
            List<Lease> leases = queue.leaseDue(BATCH, LEASE, skip);
            if (leases.isEmpty()) {
                break;
            }
            List<MailQueue.Attempt> outcomes = new ArrayList<>();
            for (Lease l : leases) {
                outcomes.add(new MailQueue.Attempt(l, DELIVERED, new RetryPolicy.Decision(RecipientState.DELIVERED,
                        null, "delivered")));
            }
            queue.recordOutcomes(outcomes);
            done += leases.size();
            while (k < 10 && done >= k * tenth) {
                at[k++] = System.nanoTime();
            }
        }
        while (k <= 10) {
            at[k++] = System.nanoTime();
        }
        StringBuilder line = new StringBuilder("drain of " + done + " recipients, per tenth (recipients/s):");
        double[] rates = new double[10];
        for (int t = 0; t < 10; t++) {
            int count = t < 9 ? tenth : Math.max(0, done - 9 * tenth);
            rates[t] = count * 1e9 / Math.max(1, at[t + 1] - at[t]);
            line.append(String.format(" %.0f", rates[t]));
        }
        System.out.println(line);
        return new double[] {rates[0], rates[9]};
    }

    private interface Work {
        Object run() throws Exception;
    }

    /** The mean time of {@code n} runs in ms. */
    private static double time(int n, Work work) throws Exception {
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            work.run();
        }
        return (System.nanoTime() - t0) / 1e6 / n;
    }

    static String domain(int i) {
        return "d" + i + ".example.org";
    }

    static void deleteTree(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
