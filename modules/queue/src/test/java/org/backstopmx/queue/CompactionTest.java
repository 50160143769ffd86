package org.backstopmx.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueueStats;
import org.backstopmx.core.QueuedMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompactionTest {
    static final long MIN_SIZE = 1024 * 1024;

    @TempDir
    Path dir;
    final Clock clock = Clock.systemUTC();

    @Test
    void compactionShrinksTheFileAndKeepsEveryMessage() throws Exception {
        List<QueuedMessage> remaining;
        QueueStats stats;
        try (H2MailQueue queue = open(MIN_SIZE)) {
            List<QueueId> ids = new ArrayList<>();
            for (int i = 0; i < 600; i++) {
                ids.add(TestMessages.put(queue, clock, 3000 + i));
            }
            for (QueueId id : ids.subList(0, 500)) {
                queue.delete(id);
            }
            remaining = queue.list(1000);
            stats = queue.stats();
            long before = queue.databaseFileSize();

            Compaction c = queue.maintain().orElseThrow(() -> new AssertionError(
                    "not due at " + before + " bytes"));

            System.out.printf("compaction: %d -> %d bytes (live about %d) in %d ms%n", c.sizeBefore(), c.sizeAfter(),
                    c.liveEstimate(), c.took().toMillis());
            assertThat(c.sizeBefore()).isEqualTo(before);
            assertThat(c.sizeAfter()).isLessThan(before).isEqualTo(queue.databaseFileSize());
            assertThat(queue.compactions()).isEqualTo(1);
            assertThat(queue.maintain()).as("no longer due").isEmpty();
            assertThat(queue.list(1000)).isEqualTo(remaining);
            assertThat(queue.stats()).isEqualTo(stats);
            TestMessages.put(queue, clock, 100); // and it still takes mail
        }
        try (H2MailQueue queue = open(MIN_SIZE)) {
            assertThat(queue.list(1000)).hasSize(101).containsAll(remaining);
            for (QueuedMessage m : remaining) {
                assertThat(TestMessages.read(queue.openBody(m.id())))
                        .isEqualTo(TestMessages.body(m.id(), (int) m.size()));
            }
        }
    }

    @Test
    void receiversWaitDuringCompactionAndNoneFails() throws Exception {
        Set<QueueId> committed = ConcurrentHashMap.newKeySet();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try (H2MailQueue queue = open(MIN_SIZE)) {
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                workers.add(pool.submit(() -> {
                    while (!stop.get()) {
                        committed.add(TestMessages.put(queue, clock, 2048)); // any exception fails the test
                    }
                    return null;
                }));
            }
            for (int round = 1; round <= 5; round++) {
                int seen = committed.size();
                await().atMost(Duration.ofSeconds(30)).until(() -> committed.size() >= seen + 200);
                queue.compact();
            }
            stop.set(true);
            for (Future<?> f : workers) {
                f.get();
            }
            // ours, and any the maintenance's own check started (it counts the rows these writers add)
            assertThat(queue.compactions()).isGreaterThanOrEqualTo(5);
            assertThat(queue.list(Integer.MAX_VALUE)).extracting(QueuedMessage::id)
                    .containsExactlyInAnyOrderElementsOf(committed);
        } finally {
            stop.set(true);
            pool.shutdown(); // not shutdownNow: a thread interrupted inside H2 damages the database
        }
    }

    @Test
    void nothingIsDueBelowTheMinimumSize() throws Exception {
        try (H2MailQueue queue = open(64L << 20)) {
            for (int i = 0; i < 50; i++) {
                queue.delete(TestMessages.put(queue, clock, 1000));
            }
            assertThat(queue.maintain()).isEmpty();
            assertThat(queue.compactions()).isZero();
        }
    }

    @Test
    void whatAnInterruptedCompactionLeftIsRemovedAtOpen() throws Exception {
        QueueId id;
        try (H2MailQueue queue = open(MIN_SIZE)) {
            id = TestMessages.put(queue, clock, 1000);
        }
        Path leftover = dir.resolve(QueueDatabase.FILE_NAME + Compactor.TEMP_SUFFIX);
        Files.write(leftover, new byte[12345]);
        try (H2MailQueue queue = open(MIN_SIZE)) {
            assertThat(leftover).doesNotExist();
            assertThat(queue.find(id)).isPresent();
            Optional<Compaction> none = queue.maintain();
            assertThat(none).isEmpty();
        }
    }

    private H2MailQueue open(long compactMinSize) throws Exception {
        return H2MailQueue.open(TestMessages.config(dir, compactMinSize), TestMessages.MAX_MESSAGE_SIZE, clock);
    }
}
