package org.backstopmx.queue;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueuedMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Many concurrent commits share fsyncs: fewer sync rounds than messages, and every message is there. */
class GroupCommitTest {
    static final int THREADS = 20;
    static final int PER_THREAD = 150;

    @TempDir
    Path dir;

    @Test
    void concurrentCommitsShareFsyncs() throws Exception {
        Clock clock = Clock.systemUTC();
        Set<QueueId> committed = ConcurrentHashMap.newKeySet();
        try (H2MailQueue queue = H2MailQueue.open(TestMessages.config(dir), TestMessages.MAX_MESSAGE_SIZE, clock)) {
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                List<Future<?>> workers = new java.util.ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    workers.add(pool.submit(() -> {
                        for (int i = 0; i < PER_THREAD; i++) {
                            committed.add(TestMessages.put(queue, clock, 4096));
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

            int messages = THREADS * PER_THREAD;
            assertThat(committed).hasSize(messages);
            assertThat(queue.list(Integer.MAX_VALUE)).extracting(QueuedMessage::id)
                    .containsExactlyInAnyOrderElementsOf(committed);
            assertThat(queue.stats().messages()).isEqualTo(messages);
            assertThat(queue.groupCommitRequests()).isEqualTo(messages);
            System.out.printf("group commit: %d messages in %d fsync rounds%n", messages, queue.groupCommitRounds());
            assertThat(queue.groupCommitRounds()).isPositive().isLessThan(messages);
        }
    }
}
