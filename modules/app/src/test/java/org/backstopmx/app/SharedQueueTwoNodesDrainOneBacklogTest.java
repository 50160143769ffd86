package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import jakarta.mail.Session;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.PostgresServer;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two nodes on one queue in PostgreSQL drain one backlog (accepted by both while the primary was down) when the
 * primary comes back: every recipient reaches it exactly once (no crash, so at-least-once must be exactly once), and
 * neither node opens more than its {@code delivery.concurrency} delivering sessions to it at once (the limit is per
 * node: the primary may see both nodes' sessions together). The primary takes a moment over each message, so the
 * sessions of both nodes overlap.
 */
class SharedQueueTwoNodesDrainOneBacklogTest {
    private static final int MESSAGES = 150;
    private static final String[] RECIPIENTS = {"bob@example.test", "carol@example.test"};
    private static final int CONCURRENCY = 3;
    private static final Duration WAIT = Duration.ofSeconds(120);

    @TempDir
    Path dir;

    private PostgresServer postgres;
    private FakePrimaryMx primary;
    private Appliance a;
    private Appliance b;

    @AfterEach
    void stop() {
        SharedQueueNode.closeAll(a, b, primary, postgres);
    }

    @Test
    void everyRecipientIsDeliveredOnceAndEachNodeKeepsItsConcurrency() throws Exception {
        long started = System.nanoTime();
        postgres = PostgresServer.start();
        String url = postgres.jdbcUrl(postgres.createDatabase());
        Path password = SharedQueueNode.passwordFile(dir);
        primary = FakePrimaryMx.start();
        primary.stop();
        a = Appliance.start(SharedQueueNode.config(dir, primary.port(), url, password, "node-a",
                SharedQueueNode.LEASE, CONCURRENCY), Clock.systemUTC());
        b = Appliance.start(SharedQueueNode.config(dir, primary.port(), url, password, "node-b",
                SharedQueueNode.LEASE, CONCURRENCY), Clock.systemUTC());

        Session toA = TestMail.session(a.smtpAddress());
        Session toB = TestMail.session(b.smtpAddress());
        try (SMTPTransport ta = (SMTPTransport) toA.getTransport("smtp");
                SMTPTransport tb = (SMTPTransport) toB.getTransport("smtp")) {
            ta.connect();
            tb.connect();
            for (int i = 0; i < MESSAGES; i++) {
                boolean viaA = i % 2 == 0;
                TestMail.send(viaA ? ta : tb, viaA ? toA : toB, TestMail.message("m" + i, 2), RECIPIENTS);
            }
        }
        long accepted = System.nanoTime();

        // each message takes the primary a moment, so that a node's sessions overlap and its limit is reached
        primary.answer((verb, arg) -> {
            if (verb.equals("DOT")) {
                sleepQuietly(20);
            }
            return null;
        });
        primary.restart();
        int expected = MESSAGES * RECIPIENTS.length;
        await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).until(() -> SharedQueueNode.deliveries(primary)
                .size() == expected && a.queue().list(1).isEmpty());

        Map<String, Integer> delivered = SharedQueueNode.deliveries(primary);
        Map<String, Integer> byNode = new TreeMap<>();
        for (FakePrimaryMx.Transaction t : primary.transactions()) {
            byNode.merge(t.client(), t.rcptTo().size(), Integer::sum);
        }
        Map<String, Integer> peaks = primary.peakDeliveringSessions();
        System.out.printf("two nodes drain one backlog: %d messages x %d recipients accepted in %d ms, drained in"
                + " %d ms; recipients delivered by node %s; delivering sessions at most %s (limit %d per node);"
                + " %d s in all%n", MESSAGES, RECIPIENTS.length, Duration.ofNanos(accepted - started).toMillis(),
                Duration.ofNanos(System.nanoTime() - accepted).toMillis(), byNode, peaks, CONCURRENCY,
                Duration.ofNanos(System.nanoTime() - started).toSeconds());

        assertThat(delivered).hasSize(expected);
        assertThat(delivered.entrySet()).allSatisfy(e -> assertThat(e.getValue()).as(e.getKey()).isEqualTo(1));
        assertThat(byNode.values().stream().mapToInt(n -> n).sum()).isEqualTo(expected);
        assertThat(peaks).isNotEmpty().allSatisfy((node, peak) -> assertThat(peak).as(node)
                .isBetween(1, CONCURRENCY));
        assertThat(peaks.keySet()).isSubsetOf("node-a", "node-b");
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
