package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import jakarta.mail.Session;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.DeliveryConfig;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.PostgresServer;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two nodes on one queue in PostgreSQL, a lease of {@link #LEASE} and a primary that holds the final dot of a message
 * for several lease times before it answers {@code 250}: the node delivering it renews its lease meanwhile (the
 * lease's end keeps moving, the holder stays the same), so the other node never takes the recipient, and the
 * message reaches the primary exactly once.
 */
class SharedQueueDeliveryLongerThanTheLeaseTest {
    /** Renewed every second: the real waiting stays short. */
    private static final Duration LEASE = Duration.ofSeconds(3);
    /** How long the primary holds the final dot: three lease times. */
    private static final Duration HELD = LEASE.multipliedBy(3);

    @TempDir
    Path dir;

    private PostgresServer postgres;
    private FakePrimaryMx primary;
    private Appliance a;
    private Appliance b;
    private final CountDownLatch answer = new CountDownLatch(1);

    @AfterEach
    void stop() {
        answer.countDown();
        SharedQueueNode.closeAll(a, b, primary, postgres);
    }

    @Test
    void aDeliveryLastingSeveralLeasesIsMadeOnceAndItsLeaseNeverChangesHands() throws Exception {
        postgres = PostgresServer.start();
        String url = postgres.jdbcUrl(postgres.createDatabase());
        Path password = SharedQueueNode.passwordFile(dir);
        primary = FakePrimaryMx.start();
        AtomicInteger dots = new AtomicInteger();
        primary.answer((verb, arg) -> {
            if (verb.equals("DOT")) {
                dots.incrementAndGet();
                try {
                    answer.await(1, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return null;
        });
        a = Appliance.start(node(url, password, "node-a"), Clock.systemUTC());
        b = Appliance.start(node(url, password, "node-b"), Clock.systemUTC());

        Session session = TestMail.session(a.smtpAddress());
        try (SMTPTransport t = (SMTPTransport) session.getTransport("smtp")) {
            t.connect();
            TestMail.send(t, session, TestMail.message("slow", 2), "bob@example.test");
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> dots.get() == 1);
        Lease first = lease(url).orElseThrow();
        long started = System.nanoTime();

        // the final dot is held for three lease times: the lease moves on with its holder, and nobody else tries
        await().during(HELD).atMost(HELD.plusSeconds(5)).until(() -> dots.get() == 1
                && lease(url).map(l -> l.owner().equals(first.owner())).orElse(false));
        Lease renewed = lease(url).orElseThrow();
        assertThat(renewed.until()).as("renewed past its first end").isAfter(first.until().plus(LEASE));
        assertThat(renewed.until()).as("and never much further than one lease ahead")
                .isBefore(Instant.now().plus(LEASE).plusSeconds(1));
        answer.countDown();

        await().atMost(Duration.ofSeconds(30)).until(() -> a.queue().list(1).isEmpty());
        long tookMillis = Duration.ofNanos(System.nanoTime() - started).toMillis();
        System.out.printf("delivery longer than the lease: held %d ms under a lease of %d s by %s, renewed until"
                + " %s; %d transaction(s)%n", tookMillis, LEASE.toSeconds(), first.owner(), renewed.until(),
                primary.transactions().size());
        assertThat(primary.transactions()).singleElement()
                .satisfies(t -> assertThat(t.client()).isEqualTo(first.owner()));
        assertThat(SharedQueueNode.deliveries(primary)).containsExactly(java.util.Map.entry("slow bob@example.test", 1));
        assertThat(dots.get()).isEqualTo(1);
    }

    private BackstopConfig node(String url, Path password, String node) {
        BackstopConfig c = SharedQueueNode.config(dir, primary.port(), url, password, node, LEASE, 2);
        DeliveryConfig d = c.delivery();
        // the final dot may take a minute; everything else a second, as on the other shared-queue tests
        return c.withDelivery(new DeliveryConfig(d.concurrency(), d.connectionReuseTime(), d.connectTimeout(),
                d.commandTimeout(), Duration.ofMinutes(1), d.tls(), d.delayWarning(), d.bounceSizeLimit()));
    }

    /** The lease on the one recipient in the queue, as the database has it. */
    private record Lease(String owner, Instant until) {
    }

    private static Optional<Lease> lease(String url) throws Exception {
        try (Connection c = DriverManager.getConnection(url, PostgresServer.USER, "");
                PreparedStatement p = c.prepareStatement("SELECT lease_owner, lease_until FROM recipient"
                        + " WHERE lease_owner IS NOT NULL");
                ResultSet rs = p.executeQuery()) {
            return rs.next() ? Optional.of(new Lease(rs.getString(1), rs.getObject(2, OffsetDateTime.class)
                    .toInstant())) : Optional.empty();
        }
    }
}
