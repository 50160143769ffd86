package org.backstopmx.queue;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueuedMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A message committed while the database is offline for maintenance (a compaction) is answered from its complete
 * spool file, without waiting for the database: its rows are written once the database is back, and a crash before
 * that loses nothing, since startup recovery restores it from the spool file.
 */
class AcceptDuringMaintenanceTest {
    @TempDir
    Path dir;
    @TempDir
    Path crashImage;
    final Clock clock = Clock.systemUTC();

    @Test
    void aCommitDuringMaintenanceReturnsAndItsRowsFollowWhenTheDatabaseIsBack() throws Exception {
        try (H2MailQueue queue = open(dir)) {
            QueueId before = TestMessages.put(queue, clock, 2000);
            CountDownLatch offline = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<Void> maintenance = holdOffline(queue, offline, release);
            assertThat(offline.await(30, TimeUnit.SECONDS)).isTrue();

            // answered while the database is still offline: the commit does not wait for it
            QueueId during = CompletableFuture.supplyAsync(() -> put(queue, 3000)).get(30, TimeUnit.SECONDS);
            assertThat(maintenance).isNotDone();

            release.countDown();
            maintenance.get(30, TimeUnit.SECONDS);
            // the next commit's round writes the rows kept back first: after it, both are listed
            QueueId after = TestMessages.put(queue, clock, 1000);
            assertThat(queue.list(10)).extracting(QueuedMessage::id).containsExactly(before, during, after);
            assertThat(TestMessages.read(queue.openBody(during))).isEqualTo(TestMessages.body(during, 3000));
            assertThat(queue.stats().messages()).isEqualTo(3);
        }
    }

    @Test
    void aCrashBeforeTheRowsAreWrittenLosesNothing() throws Exception {
        QueueId during;
        try (H2MailQueue queue = open(dir)) {
            TestMessages.put(queue, clock, 2000);
            CountDownLatch offline = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<Void> maintenance = holdOffline(queue, offline, release);
            assertThat(offline.await(30, TimeUnit.SECONDS)).isTrue();
            during = CompletableFuture.supplyAsync(() -> put(queue, 3000)).get(30, TimeUnit.SECONDS);
            // what a crash now would leave on disk: the database without the message's rows, its spool file
            copyTree(dir, crashImage);
            release.countDown();
            maintenance.get(30, TimeUnit.SECONDS);
        }
        Files.deleteIfExists(crashImage.resolve(QueueLock.FILE_NAME));
        try (H2MailQueue restarted = open(crashImage)) {
            assertThat(restarted.list(10)).extracting(QueuedMessage::id).contains(during);
            assertThat(TestMessages.read(restarted.openBody(during))).isEqualTo(TestMessages.body(during, 3000));
            assertThat(restarted.leaseDue(10, java.time.Duration.ofMinutes(5))).extracting(l -> l.queueId())
                    .contains(during);
        }
    }

    /** Takes the database offline, as a compaction does, until {@code release}. */
    private static CompletableFuture<Void> holdOffline(H2MailQueue queue, CountDownLatch offline,
            CountDownLatch release) {
        return CompletableFuture.runAsync(() -> {
            try {
                queue.database().offline(file -> {
                    offline.countDown();
                    try {
                        release.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return null;
                });
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private QueueId put(H2MailQueue queue, int size) {
        try {
            return TestMessages.put(queue, clock, size);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void copyTree(Path from, Path to) throws Exception {
        List<Path> all;
        try (Stream<Path> s = Files.walk(from)) {
            all = s.toList();
        }
        for (Path p : all) {
            Path target = to.resolve(from.relativize(p).toString());
            if (Files.isDirectory(p)) {
                Files.createDirectories(target);
            } else {
                Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    private static H2MailQueue open(Path at) throws Exception {
        return H2MailQueue.open(TestMessages.config(at, 64L << 20), TestMessages.MAX_MESSAGE_SIZE,
                Clock.systemUTC());
    }
}
