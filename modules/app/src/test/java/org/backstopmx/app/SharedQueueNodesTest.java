package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import jakarta.mail.Session;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.PostgresServer;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two appliances on one queue in PostgreSQL ({@code queue.type: postgresql}): mail that one node answered 250 for is
 * delivered by the other, once the first is gone. A real PostgreSQL, a real SMTP client, a scripted primary.
 */
class SharedQueueNodesTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

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
    void mailOneNodeAcceptedIsDeliveredByTheOther() throws Exception {
        postgres = PostgresServer.start();
        String url = postgres.jdbcUrl(postgres.createDatabase());
        Path password = SharedQueueNode.passwordFile(dir);
        primary = FakePrimaryMx.start();
        primary.stop(); // down: what node-a accepts stays queued

        a = Appliance.start(node(url, password, "node-a"), Clock.systemUTC());
        assertThat(a.adminAddress()).isNotNull(); // the admin API, on the shared queue too
        byte[] raw = TestMail.message("via-node-a", 3);
        Session session = TestMail.session(a.smtpAddress());
        try (SMTPTransport t = (SMTPTransport) session.getTransport("smtp")) {
            t.connect();
            TestMail.send(t, session, raw, "bob@example.test");
        }
        // the whole queue's gauges, the same on every node
        java.net.URL scrape = java.net.URI.create("http://127.0.0.1:" + a.metricsAddress().getPort() + "/metrics")
                .toURL();
        String metrics;
        try (java.io.InputStream in = scrape.openStream()) {
            metrics = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(metrics).contains("backstop_queue_messages 1.0").contains("backstop_queue_writable 1.0")
                // the per-domain ones too, cluster-wide, refreshed on their interval (their figures:
                // PostgresDomainFiguresTest)
                .contains("backstop_queue_recipients{domain=\"example.test\",state=\"queued\"}")
                .contains("backstop_queue_oldest_age_seconds{domain=\"example.test\"}")
                .contains("backstop_queue_expiring_recipients{domain=\"other\"}").contains("(cluster-wide)");
        a.close();
        a = null;

        primary.restart();
        b = Appliance.start(node(url, password, "node-b"), Clock.systemUTC());
        await().atMost(WAIT).until(() -> primary.transactions().size() == 1 && b.queue().list(10).isEmpty());
        assertThat(new String(primary.transactions().get(0).data(), StandardCharsets.ISO_8859_1))
                .contains("Subject: test via-node-a");
    }

    private BackstopConfig node(String url, Path password, String node) {
        return SharedQueueNode.config(dir, primary.port(), url, password, node, SharedQueueNode.LEASE, 20);
    }
}
