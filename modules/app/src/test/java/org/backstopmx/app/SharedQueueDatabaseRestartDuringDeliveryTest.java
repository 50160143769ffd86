package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import jakarta.mail.Session;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.backstopmx.core.config.RetryConfig;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.PostgresServer;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PostgreSQL restarts on the same data (what a failover to a standby that has every commit looks like to the nodes)
 * while two nodes are draining a backlog to the primary: sessions are cut, claims and outcomes in flight fail. Every
 * accepted message still reaches the primary (at-least-once: an outcome the restart kept from being recorded is
 * delivered again, once its lease has run out, and counted), and at the end no lease is left: the queue is empty.
 */
class SharedQueueDatabaseRestartDuringDeliveryTest {
    private static final int MESSAGES = 100;
    /** The restart begins once the primary has this many. */
    private static final int RESTART_AFTER = 20;
    private static final Duration WAIT = Duration.ofSeconds(150);
    /**
     * An attempt the restart cut (the body could not be read, the session to the primary ended) is deferred like any
     * failed attempt, by the recipient's backoff: seconds here instead of the default 5 minutes.
     */
    private static final RetryConfig RETRY = new RetryConfig(Duration.ofSeconds(1), Duration.ofSeconds(2));

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
    void noAcceptedMessageIsLostAndEveryLeaseIsRecovered() throws Exception {
        long started = System.nanoTime();
        postgres = PostgresServer.start();
        String url = postgres.jdbcUrl(postgres.createDatabase());
        Path password = SharedQueueNode.passwordFile(dir);
        primary = FakePrimaryMx.start();
        primary.stop();
        a = Appliance.start(SharedQueueNode.config(dir, primary.port(), url, password, "node-a",
                SharedQueueNode.LEASE, 2, RETRY), Clock.systemUTC());
        b = Appliance.start(SharedQueueNode.config(dir, primary.port(), url, password, "node-b",
                SharedQueueNode.LEASE, 2, RETRY), Clock.systemUTC());
        Session session = TestMail.session(a.smtpAddress());
        try (SMTPTransport t = (SMTPTransport) session.getTransport("smtp")) {
            t.connect();
            for (int i = 0; i < MESSAGES; i++) {
                TestMail.send(t, session, TestMail.message("m" + i, 2), "bob@example.test");
            }
        }

        // the primary takes a moment over each message, so that the restart comes in the middle of the drain
        primary.answer((verb, arg) -> {
            if (verb.equals("DOT")) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return null;
        });
        primary.restart();
        await().atMost(WAIT).pollInterval(Duration.ofMillis(5))
                .until(() -> primary.transactions().size() >= RESTART_AFTER);
        int before = SharedQueueNode.deliveries(primary).size();
        long restartAt = System.nanoTime();
        postgres.restart();
        int during = SharedQueueNode.deliveries(primary).size() - before;
        long restarted = System.nanoTime();

        await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).until(() -> SharedQueueNode.deliveries(primary)
                .size() == MESSAGES && rows(url, "SELECT COUNT(*) FROM recipient") == 0);
        Map<String, Integer> delivered = SharedQueueNode.deliveries(primary);
        int duplicates = delivered.values().stream().mapToInt(n -> n - 1).sum();
        System.out.printf("PostgreSQL restart during delivery: %d messages, %d delivered before the restart, %d while"
                + " it stopped and started (%d ms), %d after; %d delivered twice (outcomes the restart cut); drained"
                + " %d ms after the restart, %d s in all%n", MESSAGES, before, during,
                Duration.ofNanos(restarted - restartAt).toMillis(), MESSAGES - before - during, duplicates,
                Duration.ofNanos(System.nanoTime() - restarted).toMillis(),
                Duration.ofNanos(System.nanoTime() - started).toSeconds());

        assertThat(before).as("the restart came before the drain ended").isLessThan(MESSAGES);
        assertThat(delivered).hasSize(MESSAGES);
        for (int i = 0; i < MESSAGES; i++) {
            assertThat(delivered).containsKey("m" + i + " bob@example.test");
        }
        assertThat(rows(url, "SELECT COUNT(*) FROM message")).isZero();
        for (Appliance node : new Appliance[] {a, b}) {
            assertThat(SharedQueueNode.ready(node)).startsWith("200");
        }
    }

    private static long rows(String url, String count) throws Exception {
        try (Connection c = DriverManager.getConnection(url, PostgresServer.USER, "");
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(count)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
