package org.backstopmx.queue;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueuedMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bounded disk under churn (README, "The queue on H2": without compaction the file grew to GBs for 12 MB of live data):
 * 30 000 messages of 4 KiB pass through (receive, commit, delete) with a few hundred live at any time, and the
 * database file stays within a small multiple of its live data, while nothing committed and not deleted is lost.
 */
class QueueChurnTest {
    static final int MESSAGES = 30_000;
    static final int THREADS = 8;
    static final int LIVE_PER_THREAD = 40; // at most 320 live messages
    static final int BODY = 4096;
    static final long COMPACT_MIN_SIZE = 2L * 1024 * 1024;

    @TempDir
    Path dir;

    @Test
    void theDatabaseStaysSmallAndNothingLiveIsLost() throws Exception {
        Clock clock = Clock.systemUTC();
        AtomicInteger started = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        AtomicLong maxFileSize = new AtomicLong();
        List<Deque<QueueId>> live = new ArrayList<>();
        long t0 = System.nanoTime();
        try (H2MailQueue queue = H2MailQueue.open(TestMessages.config(dir, COMPACT_MIN_SIZE),
                TestMessages.MAX_MESSAGE_SIZE, clock)) {
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                List<Future<?>> workers = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    Deque<QueueId> mine = new ArrayDeque<>();
                    live.add(mine);
                    workers.add(pool.submit(() -> {
                        while (started.getAndIncrement() < MESSAGES) {
                            mine.addLast(TestMessages.put(queue, clock, BODY));
                            if (mine.size() > LIVE_PER_THREAD) {
                                assertThat(queue.delete(mine.removeFirst())).isTrue();
                            }
                            int n = done.incrementAndGet();
                            long size = queue.databaseFileSize();
                            maxFileSize.accumulateAndGet(size, Math::max);
                            if (n % 10_000 == 0) {
                                System.out.printf("churn: %6d messages, database file %,d bytes, %d compactions,"
                                        + " %.1f s%n", n, size, queue.compactions(), (System.nanoTime() - t0) / 1e9);
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : workers) {
                    f.get();
                }
            } finally {
                pool.shutdown();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;

            Set<QueueId> expected = new HashSet<>();
            live.forEach(expected::addAll);
            List<QueuedMessage> listed = queue.list(Integer.MAX_VALUE);
            assertThat(listed).extracting(QueuedMessage::id).containsExactlyInAnyOrderElementsOf(expected);
            for (QueueId id : expected) {
                assertThat(TestMessages.read(queue.openBody(id))).isEqualTo(TestMessages.body(id, BODY));
            }
            assertThat(queue.stats().messages()).isEqualTo(expected.size());
            try (var files = Files.walk(dir.resolve("spool"))) {
                assertThat(files.filter(Files::isRegularFile).count()).isEqualTo(expected.size());
            }

            long beforeFinalCheck = queue.databaseFileSize();
            queue.maintain();
            long fileSize = queue.databaseFileSize();
            long liveData = queue.liveDataEstimate();
            System.out.printf("churn: done, %d messages in %.1f s (%.0f/s), %d live; database file %,d bytes at the"
                    + " end of the run, %,d after the final check, max %,d during the run; live data about %,d bytes;"
                    + " %d compactions%n", MESSAGES, seconds, MESSAGES / seconds, expected.size(), beforeFinalCheck,
                    fileSize, maxFileSize.get(), liveData, queue.compactions());

            assertThat(queue.compactions()).isPositive();
            assertThat(fileSize).isLessThanOrEqualTo(4 * liveData + COMPACT_MIN_SIZE);
            // without compaction the file reaches hundreds of MB here; the check every 2000 writes bounds it
            assertThat(maxFileSize.get()).isLessThan(64L * 1024 * 1024);
        }
    }
}
