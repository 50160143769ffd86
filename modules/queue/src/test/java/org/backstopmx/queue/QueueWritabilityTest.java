package org.backstopmx.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.Lease;
import org.backstopmx.core.Metrics;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.RetryPolicy;
import org.backstopmx.core.config.QueueConfig;
import org.backstopmx.testkit.MutableClock;
import org.backstopmx.testkit.SmallFileSystem;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whether the queue takes mail is told truthfully ({@code whyNotWritable()}, the {@code backstop_queue_writable}
 * gauge) and comes back by itself: a database H2 closed under the queue is reopened with every message, and a full
 * file system (a tmpfs of its own) stops the queue until there is room again.
 */
class QueueWritabilityTest {
    private static final Duration WATCH = Duration.ofMillis(50);
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Duration LEASE = Duration.ofMinutes(15);

    @TempDir
    Path dir;

    private final MutableClock clock = MutableClock.startingAt("2026-12-01T10:00:00Z");
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Map<QueueId, byte[]> stored = new LinkedHashMap<>();
    private H2MailQueue queue;
    private QueueMetrics metrics;
    private SmallFileSystem fs;

    @AfterEach
    void close() {
        try {
            if (metrics != null) {
                metrics.close();
            }
            if (queue != null) {
                queue.close();
            }
        } finally {
            if (fs != null) {
                fs.close();
            }
        }
    }

    @Test
    void aDatabaseClosedUnderTheQueueIsReopenedByItselfWithEveryMessage() throws Exception {
        open(TestMessages.config(dir));
        for (int i = 0; i < 5; i++) {
            put(1000 + 7000 * i);
        }
        assertThat(queue.whyNotWritable()).isEmpty();
        Lease leased = queue.leaseDue(1, LEASE).get(0); // a delivery is under way when the database goes

        // H2 closes the database, as it does by itself after a failed write; and the file is away for a moment, so the
        // first reopen fails and the queue must say so, and must not make a new, empty database in its place
        Path file = dir.resolve(QueueDatabase.FILE_NAME);
        Path away = dir.resolve("queue.mv.db.away");
        try (Connection c = DriverManager.getConnection(QueueDatabase.url(dir) + ";IFEXISTS=TRUE", QueueDatabase.USER,
                ""); Statement s = c.createStatement()) {
            s.execute("SHUTDOWN IMMEDIATELY");
        }
        Files.move(file, away);

        QueueId refused = QueueId.next(clock);
        try (IncomingMessage m = queue.receive(refused)) {
            m.body().write(TestMessages.body(refused, 500));
            assertThatThrownBy(() -> m.commit(TestMessages.envelope(refused, clock, 500, "s@example.net",
                    "r@example.org"))).isInstanceOf(QueueException.class);
        }
        assertThat(queue.whyNotWritable()).get().asString()
                .contains("its database is closed and not reopened yet");
        assertThat(gauge()).isZero();
        RetryPolicy.Decision later = new RetryPolicy.Decision(RecipientState.DEFERRED,
                clock.instant().plus(Duration.ofMinutes(5)), "try again later");
        assertThatThrownBy(() -> queue.recordOutcome(leased, DeliveryTest.TRY_LATER, later))
                .isInstanceOf(QueueException.class);
        assertThat(file).as("no empty database made in the lost one's place").doesNotExist();

        Files.move(away, file, StandardCopyOption.ATOMIC_MOVE);
        await().atMost(WAIT).until(() -> queue.whyNotWritable().isEmpty());
        assertThat(gauge()).isEqualTo(1);
        assertThat(queue.databaseReopens()).isEqualTo(1);
        assertEveryStoredMessageIntact();
        assertThat(queue.find(refused)).isEmpty();
        // the recipient whose outcome could not be recorded is due again now, not when its lease ends
        assertThat(queue.leaseDue(10, LEASE)).extracting(Lease::recipientId).contains(leased.recipientId());
        put(2000); // taking mail again, with nobody having told the queue
        assertEveryStoredMessageIntact();
        assertThat(queue.stats().messages()).isEqualTo(stored.size());
    }

    @Test
    void aFullFileSystemStopsTheQueueUntilThereIsRoomAndNothingIsLost() throws Exception {
        try {
            fs = SmallFileSystem.mount(dir.resolve("small"), 16L << 20);
        } catch (SmallFileSystem.Unmountable e) {
            Assumptions.abort("needs a tmpfs of its own: " + e.getMessage());
        }
        long reserve = 256 * 1024;
        QueueConfig config = new QueueConfig(fs.root().resolve("queue"), Duration.ofDays(5), reserve, 4.0, 64L << 20);
        open(config);
        for (int i = 0; i < 10; i++) {
            put(20_000 + 1000 * i);
        }

        fs.leaveFree(reserve / 2);
        assertThat(queue.hasRoomFor(0)).isFalse();
        assertThat(queue.whyNotWritable()).get().asString()
                .contains("bytes free on its file system, below the free-space reserve of " + reserve + " bytes");
        assertThat(gauge()).isZero();

        // not a byte left: writing the database fails, and H2 closes it after the failed write
        fs.leaveFree(0);
        boolean failed = false;
        for (int i = 0; i < 50 && !failed; i++) {
            try {
                QueueId id = stored.keySet().iterator().next();
                queue.hold(id);
                queue.release(id);
            } catch (QueueException e) {
                failed = true;
                assertThat(e.kind()).isIn(QueueException.Kind.STORAGE_FULL, QueueException.Kind.STORAGE_ERROR,
                        QueueException.Kind.UNAVAILABLE);
            }
        }
        assertThat(failed).as("a write of the database on a full file system fails").isTrue();
        assertThat(queue.whyNotWritable()).get().asString().contains("below the free-space reserve");
        assertThat(gauge()).isZero();

        fs.removeFiller();
        await().atMost(WAIT).until(() -> queue.whyNotWritable().isEmpty());
        assertThat(gauge()).isEqualTo(1);
        assertEveryStoredMessageIntact();
        put(3000);
        assertEveryStoredMessageIntact();
        assertThat(queue.stats().messages()).isEqualTo(stored.size());

        // and after a restart on the same file system, the same messages
        metrics.close();
        queue.close();
        open(config);
        assertEveryStoredMessageIntact();
        assertThat(queue.list(100)).hasSize(stored.size());
    }

    private void open(QueueConfig config) throws QueueException {
        queue = H2MailQueue.open(config, TestMessages.MAX_MESSAGE_SIZE, clock, new org.backstopmx.core.Liveness(clock), WATCH);
        metrics = QueueMetrics.bind(queue, registry, Set.of("example.org"), clock, Duration.ofHours(1));
    }

    private void put(int size) throws Exception {
        clock.advance(Duration.ofMillis(5));
        QueueId id = TestMessages.put(queue, clock, size);
        stored.put(id, TestMessages.body(id, size));
    }

    private void assertEveryStoredMessageIntact() throws Exception {
        for (Map.Entry<QueueId, byte[]> e : stored.entrySet()) {
            assertThat(queue.find(e.getKey())).as(e.getKey().value()).isPresent();
            assertThat(TestMessages.read(queue.openBody(e.getKey()))).as(e.getKey().value()).isEqualTo(e.getValue());
        }
    }

    private double gauge() {
        return registry.get(Metrics.QUEUE_WRITABLE).gauge().value();
    }
}
