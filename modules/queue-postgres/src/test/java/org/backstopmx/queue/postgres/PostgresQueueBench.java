package org.backstopmx.queue.postgres;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.Lease;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.RetryPolicy;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.core.SmtpStage;

/**
 * Accept and drain throughput of {@link PostgresMailQueue} on a real PostgreSQL started for the run, not a test:
 * <pre>
 *   mvn -q -pl modules/queue-postgres -am test-compile exec:java [-Dexec.args="threads perThread size"]
 * </pre>
 * Defaults: 20 threads × 1 000 messages of 4 KiB. Three phases, each timed: accepting on one node (latency is one
 * {@code commit()}: chunk and rows inserted, committed with {@code synchronous_commit = on}); draining that backlog
 * with one node (4 workers leasing 50 at a time and recording them delivered together); accepting again and draining
 * with two nodes (4 workers each). The H2 queue's figures for the same machine: {@code QueueBench} in modules/queue.
 */
public final class PostgresQueueBench {
    private static final DeliveryOutcome OK = new DeliveryOutcome.Delivered(SmtpReply.of(250, "2.0.0", "Ok"),
            "mail.example.org", SmtpStage.DOT);
    private static final RetryPolicy.Decision DELIVERED = new RetryPolicy.Decision(RecipientState.DELIVERED, null,
            "delivered");
    private static final int WORKERS_PER_NODE = 4;

    private PostgresQueueBench() {
    }

    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int perThread = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        int size = args.length > 2 ? Integer.parseInt(args[2]) : 4096;
        Clock clock = Clock.systemUTC();
        TestDatabase db = TestDatabase.create();
        try (PostgresMailQueue a = db.open("node-a", clock); PostgresMailQueue b = db.open("node-b", clock)) {
            accept(a, clock, threads, perThread, size);
            drain("one node", List.of(a));
            accept(a, clock, threads, perThread, size);
            drain("two nodes", List.of(a, b));
        } finally {
            TestDatabase.stopServer();
        }
    }

    private static void accept(MailQueue queue, Clock clock, int threads, int perThread, int size) throws Exception {
        long[] latencies = new long[threads * perThread];
        AtomicInteger next = new AtomicInteger();
        AtomicInteger failures = new AtomicInteger();
        byte[] body = new byte[size];
        Arrays.fill(body, (byte) 'x');
        long seconds0 = System.nanoTime();
        run(threads, t -> {
            for (int i = 0; i < perThread; i++) {
                QueueId id = QueueId.next(clock);
                try (IncomingMessage m = queue.receive(id)) {
                    m.body().write(body);
                    long t0 = System.nanoTime();
                    m.commit(new Envelope(id, clock.instant(), "192.0.2.7", "bench.example", "bench@example.net",
                            null, null, size, List.of(EnvelopeRecipient.of("rcpt@d" + (i % 10) + ".example.org"))));
                    latencies[next.getAndIncrement()] = System.nanoTime() - t0;
                } catch (Exception e) {
                    failures.incrementAndGet();
                }
            }
        });
        double seconds = (System.nanoTime() - seconds0) / 1e9;
        int n = next.get();
        long[] sorted = Arrays.copyOf(latencies, n);
        Arrays.sort(sorted);
        System.out.printf("accept, one node: %d threads x %d messages of %d bytes: %d committed, %d failed in %.1f s,"
                + " %.0f commits/s; latency ms p50 %.2f p90 %.2f p99 %.2f max %.2f%n", threads, perThread, size, n,
                failures.get(), seconds, n / seconds, pct(sorted, 50), pct(sorted, 90), pct(sorted, 99),
                sorted[n - 1] / 1e6);
    }

    private static void drain(String what, List<PostgresMailQueue> nodes) throws Exception {
        AtomicInteger delivered = new AtomicInteger();
        long t0 = System.nanoTime();
        run(nodes.size() * WORKERS_PER_NODE, w -> {
            MailQueue node = nodes.get(w % nodes.size());
            try {
                for (List<Lease> batch; !(batch = node.leaseDue(50, Duration.ofMinutes(5))).isEmpty(); ) {
                    List<MailQueue.Attempt> attempts = new ArrayList<>();
                    batch.forEach(l -> attempts.add(new MailQueue.Attempt(l, OK, DELIVERED)));
                    node.recordOutcomes(attempts);
                    delivered.addAndGet(batch.size());
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("drain, %s (%d workers each): %d recipients in %.1f s, %.0f recipients/s%n", what,
                WORKERS_PER_NODE, delivered.get(), seconds, delivered.get() / seconds);
    }

    private interface Work {
        void run(int worker) throws Exception;
    }

    private static void run(int threads, Work work) throws InterruptedException {
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int worker = t;
            Thread thread = new Thread(() -> {
                try {
                    start.await();
                    work.run(worker);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "bench-" + t);
            thread.start();
            workers.add(thread);
        }
        start.countDown();
        for (Thread t : workers) {
            t.join();
        }
    }

    private static double pct(long[] sorted, double p) {
        int i = (int) Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1);
        return sorted[Math.max(0, i)] / 1e6;
    }
}
