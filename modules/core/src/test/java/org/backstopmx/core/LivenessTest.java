package org.backstopmx.core;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Heartbeats and failure runs of background loops, on a clock moved by hand. */
class LivenessTest {
    private final MovedClock clock = new MovedClock();
    private final Liveness liveness = new Liveness(clock);
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(Liveness.class);

    @BeforeEach
    void captureLog() {
        log.start();
        logger.addAppender(log);
    }

    @AfterEach
    void releaseLog() {
        logger.detachAppender(log);
    }

    @Test
    void aLoopThatBeatsWithinItsBoundIsLive() {
        Liveness.Loop loop = liveness.register("scheduler", Duration.ofMinutes(5));
        for (int i = 0; i < 10; i++) {
            clock.advance(Duration.ofMinutes(4));
            assertThat(liveness.problem()).isEmpty();
            loop.beat();
        }
    }

    @Test
    void aLoopWithoutABeatBeyondItsBoundIsNamedUntilItBeatsAgain() {
        Liveness.Loop loop = liveness.register("scheduler", Duration.ofMinutes(5));
        liveness.register("syncer", Duration.ofMinutes(10)).beat();
        loop.beat();

        clock.advance(Duration.ofMinutes(5).plusSeconds(1));

        assertThat(liveness.problem()).hasValue("scheduler has not turned for 301 s (at most 300 s)");
        loop.beat();
        assertThat(liveness.problem()).isEmpty();
    }

    @Test
    void aLoopStoppedOnPurposeIsNoLongerWatched() {
        Liveness.Loop loop = liveness.register("scheduler", Duration.ofMinutes(5));
        loop.stopped();
        clock.advance(Duration.ofDays(1));
        assertThat(liveness.problem()).isEmpty();
    }

    @Test
    void aLoopWhoseThreadEndedWithoutStoppingIsNamedAtOnce() throws Exception {
        Liveness.Loop loop = liveness.register("syncer", Duration.ofMinutes(5));
        Thread t = new Thread(loop::beat, "queue-syncer");
        t.start();
        t.join();

        assertThat(liveness.problem()).hasValue("syncer has ended (its thread queue-syncer is gone)");
    }

    @Test
    void outOfMemoryMeansTheProcessCannotGoOnForGood() {
        Liveness.Loop loop = liveness.register("scheduler", Duration.ofMinutes(5));
        loop.failed("claiming due mail", new OutOfMemoryError("Java heap space"));
        loop.beat();
        loop.succeeded();

        assertThat(liveness.problem()).hasValue(
                "scheduler cannot go on (claiming due mail: java.lang.OutOfMemoryError: Java heap space)");
        assertThat(log.list).singleElement().satisfies(e -> {
            assertThat(e.getLevel()).isEqualTo(Level.ERROR);
            assertThat(e.getThrowableProxy().getClassName()).isEqualTo(OutOfMemoryError.class.getName());
        });
    }

    @Test
    void aLoopWithoutABoundCanStillMakeTheProcessNotLive() {
        Liveness.Loop workers = liveness.register("delivery", null);
        clock.advance(Duration.ofDays(1));
        assertThat(liveness.problem()).isEmpty();
        workers.failed("delivery of Q1", new InternalError("broken"));
        assertThat(liveness.problem()).hasValueSatisfying(p -> assertThat(p).startsWith("delivery cannot go on"));
    }

    @Test
    void theErrorsALoopSurvivesAreLoggedButLeaveItLive() {
        Liveness.Loop loop = liveness.register("scheduler", Duration.ofMinutes(5));
        loop.failed("claiming due mail", new StackOverflowError());
        loop.failed("claiming due mail", new NoClassDefFoundError("org/h2/Something"));
        loop.failed("claiming due mail", new IllegalStateException("Writing to queue.mv.db failed"));
        assertThat(liveness.problem()).isEmpty();
        assertThat(Liveness.survivable(new StackOverflowError())).isTrue();
        assertThat(Liveness.survivable(new AssertionError())).isTrue();
        assertThat(Liveness.survivable(new OutOfMemoryError())).isFalse();
    }

    @Test
    void aRunOfFailuresIsLoggedOnceWithItsCauseThenRemindedThenEnded() {
        Liveness.Loop loop = liveness.register("scheduler", Duration.ofMinutes(5));
        RuntimeException cause = new RuntimeException("The database has been closed");
        for (int i = 0; i < 1000; i++) {
            loop.failed("claiming due mail", cause);
            clock.advance(Duration.ofMillis(100));
        }
        assertThat(log.list).singleElement().satisfies(e -> {
            assertThat(e.getLevel()).isEqualTo(Level.ERROR);
            assertThat(e.getFormattedMessage()).isEqualTo("scheduler: claiming due mail failed; going on");
            assertThat(e.getThrowableProxy().getMessage()).isEqualTo("The database has been closed");
        });

        clock.advance(Duration.ofMinutes(10));
        loop.failed("claiming due mail", cause);
        loop.failed("claiming due mail", cause);
        loop.succeeded();
        loop.succeeded();

        List<String> lines = log.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        assertThat(lines).hasSize(3);
        assertThat(lines.get(1)).startsWith("scheduler: still failing: 1001 failures since ")
                .endsWith("the last: claiming due mail: java.lang.RuntimeException: The database has been closed");
        assertThat(lines.get(2)).isEqualTo("scheduler: going on normally again after 1002 failures");
        assertThat(loop.failures()).isZero();
    }

    @Test
    void thePauseDoublesOverARunUpToFiveSecondsAndStartsAgainAfterASuccess() {
        Liveness.Loop loop = liveness.register("scheduler", Duration.ofMinutes(5));
        List<Long> pauses = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
            pauses.add(loop.failed("turn", new RuntimeException("x")).toMillis());
        }
        assertThat(pauses).containsExactly(100L, 200L, 400L, 800L, 1600L, 3200L, 5000L, 5000L);
        loop.succeeded();
        assertThat(loop.failed("turn", new RuntimeException("x"))).isEqualTo(Duration.ofMillis(100));
    }

    /** A clock the test moves; core cannot use the testkit's (the testkit depends on core). */
    private static final class MovedClock extends Clock {
        private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-01T10:00:00Z"));

        void advance(Duration d) {
            now.updateAndGet(t -> t.plus(d));
        }

        @Override
        public Instant instant() {
            return now.get();
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }
}
