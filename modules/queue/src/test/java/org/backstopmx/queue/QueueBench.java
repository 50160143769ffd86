package org.backstopmx.queue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import java.util.Comparator;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.QueueId;

/**
 * Commit throughput and latency of {@link H2MailQueue}, not a test:
 * <pre>
 *   mvn -q -pl modules/queue -am test-compile exec:java [-Dexec.args="threads perThread size [dir]"]
 * </pre>
 * Defaults: 20 threads × 10 000 messages of 4 KiB in a fresh temporary directory (deleted afterwards). Latency is one
 * {@code commit()} call: body fsync, insert, commit and the wait for the group-commit fsync. The recipients are spread
 * over {@value #DOMAINS} domains; after the commits, one domain is flushed (a tenth of the backlog, as an ETRN or a
 * destination coming back up does) and then a domain with nothing queued, each timed.
 */
public final class QueueBench {
    static final int DOMAINS = 10;

    private QueueBench() {
    }

    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int perThread = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
        int size = args.length > 2 ? Integer.parseInt(args[2]) : 4096;
        boolean temporary = args.length <= 3;
        Path dir = temporary ? Files.createTempDirectory("queue-bench") : Path.of(args[3]);
        Clock clock = Clock.systemUTC();
        long[] latencies = new long[threads * perThread];
        AtomicInteger next = new AtomicInteger();
        AtomicInteger failures = new AtomicInteger();
        try (H2MailQueue queue = H2MailQueue.open(TestMessages.config(dir), TestMessages.MAX_MESSAGE_SIZE, clock)) {
            CountDownLatch start = new CountDownLatch(1);
            Thread[] workers = new Thread[threads];
            for (int t = 0; t < threads; t++) {
                workers[t] = new Thread(() -> {
                    try {
                        start.await();
                        for (int i = 0; i < perThread; i++) {
                            QueueId id = QueueId.next(clock);
                            byte[] body = TestMessages.body(id, size);
                            try (IncomingMessage m = queue.receive(id)) {
                                m.body().write(body);
                                long t0 = System.nanoTime();
                                m.commit(TestMessages.envelope(id, clock, size, "bench@example.net",
                                        "rcpt@d" + (i % DOMAINS) + ".example.org"));
                                latencies[next.getAndIncrement()] = System.nanoTime() - t0;
                            } catch (Exception e) {
                                failures.incrementAndGet();
                            }
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }, "bench-" + t);
                workers[t].start();
            }
            long t0 = System.nanoTime();
            start.countDown();
            for (Thread w : workers) {
                w.join();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            int n = next.get();
            long[] sorted = Arrays.copyOf(latencies, n);
            Arrays.sort(sorted);
            System.out.printf("%d threads x %d messages of %d bytes: %d committed, %d failed in %.1f s%n", threads,
                    perThread, size, n, failures.get(), seconds);
            System.out.printf("commits/s %.0f%n", n / seconds);
            System.out.printf("commit latency ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f%n",
                    pct(sorted, 50), pct(sorted, 90), pct(sorted, 99), pct(sorted, 99.9), sorted[n - 1] / 1e6);
            System.out.printf("group-commit rounds %d for %d requests (%.1f messages per fsync)%n",
                    queue.groupCommitRounds(), queue.groupCommitRequests(),
                    (double) queue.groupCommitRequests() / Math.max(1, queue.groupCommitRounds()));
            for (String domain : new String[] {"d0.example.org", "d0.example.org", "empty.example.org"}) {
                long f0 = System.nanoTime();
                int pending = queue.flush(domain);
                System.out.printf("flush %s: %d pending, %.0f ms%n", domain, pending,
                        (System.nanoTime() - f0) / 1e6);
            }
            long e0 = System.nanoTime();
            long live = queue.liveDataEstimate();
            long estimateMicros = (System.nanoTime() - e0) / 1000;
            System.out.printf("database file %d bytes, live data about %d bytes (estimated in %d us)%n",
                    queue.databaseFileSize(), live, estimateMicros);
            Compaction c = queue.compact();
            System.out.printf("compaction: %d -> %d bytes in %d ms (receivers wait that long)%n", c.sizeBefore(),
                    c.sizeAfter(), c.took().toMillis());
        } finally {
            if (temporary) {
                deleteTree(dir);
            }
        }
    }

    private static double pct(long[] sorted, double p) {
        int i = (int) Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1);
        return sorted[Math.max(0, i)] / 1e6;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
