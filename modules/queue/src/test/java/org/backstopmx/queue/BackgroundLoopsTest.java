package org.backstopmx.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.SyncFailedException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.backstopmx.core.Liveness;
import org.backstopmx.core.Metrics;
import org.backstopmx.testkit.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The queue's background loops (the group-commit syncer, the maintenance timer, the metrics refresher) put through
 * injected failures: each goes on, logs a run of failures once, and makes the process not live only when it cannot go
 * on or is stuck.
 */
class BackgroundLoopsTest {
    @TempDir
    Path dir;

    private final MutableClock clock = MutableClock.startingAt("2026-12-01T10:00:00Z");
    private final Liveness liveness = new Liveness(clock);
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final Logger livenessLog = (Logger) LoggerFactory.getLogger(Liveness.class);

    @BeforeEach
    void captureLog() {
        log.start();
        livenessLog.addAppender(log);
    }

    @AfterEach
    void releaseLog() {
        livenessLog.detachAppender(log);
    }

    // -------------------------------------------------------------------------------------------- the syncer

    private QueueDatabase database() throws SQLException {
        QueueDatabase db = QueueDatabase.open(dir);
        try {
            db.read(c -> SchemaMigrator.migrate(c, Clock.systemUTC()));
        } catch (Exception e) {
            db.close();
            throw new IllegalStateException(e);
        }
        return db;
    }

    @Test
    void theSyncerFailsTheRoundsItCannotWriteLogsThemOnceAndGoesOn() throws Exception {
        QueueDatabase db = database();
        try (GroupCommit syncer = GroupCommit.start(db, liveness)) {
            Path gone = dir.resolve("spool").resolve("removed-behind-our-back");
            for (int i = 0; i < 4; i++) {
                assertThatThrownBy(() -> syncer.awaitDurable(gone)).isInstanceOf(SyncFailedException.class);
            }
            // an Error out of the round's database work fails the round; the syncer stays
            assertThatThrownBy(() -> syncer.awaitDurable(null, c -> {
                throw new StackOverflowError();
            })).isInstanceOf(SyncFailedException.class).hasCauseInstanceOf(StackOverflowError.class);

            syncer.awaitDurable(null, c -> c.createStatement().executeQuery("SELECT 1").next());
            syncer.awaitDurable(dir);

            assertThat(liveness.problem()).isEmpty();
            assertThat(lines(Level.ERROR)).containsExactly("queue-syncer: group commit: the fsync of 1 waiting commits"
                    + " failed; going on");
            assertThat(lines(Level.INFO)).containsExactly("queue-syncer: going on normally again after 5 failures");
        } finally {
            db.close();
        }
    }

    @Test
    void anErrorTheProcessCannotGoOnAfterMakesItNotLiveAndTheSyncerStillServes() throws Exception {
        QueueDatabase db = database();
        try (GroupCommit syncer = GroupCommit.start(db, liveness)) {
            assertThatThrownBy(() -> syncer.awaitDurable(null, c -> {
                throw new OutOfMemoryError("Java heap space");
            })).isInstanceOf(SyncFailedException.class).hasCauseInstanceOf(OutOfMemoryError.class);

            syncer.awaitDurable(dir); // it goes on: a restart is for the supervisor to make
            assertThat(liveness.problem()).hasValue("queue-syncer cannot go on (group commit: the fsync of 1 waiting"
                    + " commits: java.lang.OutOfMemoryError: Java heap space)");
        } finally {
            db.close();
        }
    }

    @Test
    void aSyncerStuckInARoundMakesTheProcessNotLiveUntilItTurnsAgain() throws Exception {
        QueueDatabase db = database();
        try (GroupCommit syncer = GroupCommit.start(db, liveness)) {
            CountDownLatch inside = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<Void> stuck = CompletableFuture.runAsync(() -> {
                try {
                    syncer.awaitDurable(null, c -> {
                        inside.countDown();
                        try {
                            release.await(1, TimeUnit.MINUTES);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        return null;
                    });
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(inside.await(30, TimeUnit.SECONDS)).isTrue();
            clock.advance(GroupCommit.BOUND.plusSeconds(1));

            assertThat(liveness.problem()).hasValueSatisfying(p -> assertThat(p).startsWith(
                    "queue-syncer has not turned for 301 s"));

            release.countDown();
            stuck.get(30, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(30)).until(() -> liveness.problem().isEmpty());
        } finally {
            db.close();
        }
    }

    // -------------------------------------------------------------------------------------- the maintenance

    @Test
    void theMaintenanceTimerGoesOnAfterAnErrorInACheck() throws Exception {
        QueueDatabase db = database();
        AtomicInteger checks = new AtomicInteger();
        Compactor failingTwice = new Compactor(db, 4.0, 0) {
            @Override
            Check check() throws org.backstopmx.core.QueueException, SQLException {
                if (checks.incrementAndGet() <= 2) {
                    throw new StackOverflowError();
                }
                return super.check();
            }
        };
        Maintenance maintenance = new Maintenance(failingTwice, clock, liveness, Duration.ofMillis(50));
        try {
            maintenance.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> checks.get() >= 5);
            assertThat(maintenance.lastCheck()).isPresent();
            assertThat(liveness.problem()).isEmpty();
            assertThat(lines(Level.ERROR)).singleElement().asString()
                    .startsWith("queue-maintenance: queue maintenance (tried again at the next check) failed");
            assertThat(lines(Level.INFO)).containsExactly("queue-maintenance: going on normally again after 2 failures");
        } finally {
            maintenance.close();
            db.close();
        }
    }

    // ------------------------------------------------------------------------------------- the metrics refresher

    @Test
    void theMetricsRefresherGoesOnAfterErrorsAndTheGaugesCatchUp() throws Exception {
        try (H2MailQueue queue = H2MailQueue.open(TestMessages.config(dir), TestMessages.MAX_MESSAGE_SIZE, clock,
                liveness)) {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            AtomicInteger calls = new AtomicInteger();
            QueueMetrics metrics = QueueMetrics.bind(queue, expiringBefore -> {
                int n = calls.incrementAndGet();
                if (n == 2 || n == 3) {
                    throw new StackOverflowError(); // the first call is bind's own, which must work
                }
                if (n == 4) {
                    throw new IllegalStateException("queue: domain snapshot failed: The database has been closed");
                }
                return queue.domainSnapshot(expiringBefore);
            }, registry, Set.of("example.org"), clock, Duration.ofMillis(50), liveness, TestMessages.config(dir));
            try {
                TestMessages.put(queue, clock, 100);
                await().atMost(Duration.ofSeconds(30)).until(() -> registry.get(Metrics.QUEUE_RECIPIENTS)
                        .tag("domain", "example.org").tag("state", "queued").gauge().value() == 1);
                assertThat(calls.get()).isGreaterThan(4);
                assertThat(liveness.problem()).isEmpty();
                assertThat(lines(Level.ERROR)).singleElement().asString().startsWith("queue-metrics: refreshing");
                assertThat(lines(Level.INFO))
                        .containsExactly("queue-metrics: going on normally again after 3 failures");
            } finally {
                metrics.close();
            }
            assertThat(liveness.problem()).isEmpty();
        }
    }

    @Test
    void theQueueRegistersItsLoopsAndUnregistersThemWhenClosed() throws Exception {
        H2MailQueue queue = H2MailQueue.open(TestMessages.config(dir), TestMessages.MAX_MESSAGE_SIZE, clock, liveness);
        clock.advance(Duration.ofHours(1)); // none has turned in an hour of this clock
        assertThat(liveness.problem()).hasValueSatisfying(p -> assertThat(p).contains("queue-syncer has not turned")
                .contains("queue-maintenance has not turned").contains("queue-writability has not turned"));
        queue.close();
        assertThat(liveness.problem()).isEmpty();
    }

    private List<String> lines(Level level) {
        return log.list.stream().filter(e -> e.getLevel() == level).map(ILoggingEvent::getFormattedMessage).toList();
    }
}
