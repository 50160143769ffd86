package org.backstopmx.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.testkit.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A commit that cannot store throws and leaves nothing behind, now and after a reopen. */
class QueueFailureTest {
    @TempDir
    Path dir;
    final MutableClock clock = MutableClock.startingAt("2026-03-01T10:00:00Z");
    H2MailQueue queue;
    QueueId kept;

    @BeforeEach
    void open() throws Exception {
        queue = H2MailQueue.open(TestMessages.config(dir), TestMessages.MAX_MESSAGE_SIZE, clock);
        kept = TestMessages.put(queue, clock, 1000);
    }

    @AfterEach
    void close() {
        queue.close();
    }

    @Test
    void aDatabaseErrorRemovesTheBody() throws Exception {
        QueueId id = QueueId.next(clock);
        try (IncomingMessage m = queue.receive(id)) {
            m.body().write(new byte[100]);
            String tooLong = "x".repeat(600) + "@example.net"; // longer than the sender column
            assertThatThrownBy(() -> m.commit(TestMessages.envelope(id, clock, 100, tooLong, "r@example.org")))
                    .isInstanceOf(QueueException.class)
                    .extracting(e -> ((QueueException) e).kind()).isEqualTo(QueueException.Kind.STORAGE_ERROR);
        }
        assertNothingLeftOf(id);
    }

    @Test
    void aBodyFileRemovedUnderTheQueueIsNotCommitted() throws Exception {
        QueueId id = QueueId.next(clock);
        try (IncomingMessage m = queue.receive(id)) {
            m.body().write(new byte[100]);
            m.body().flush();
            Files.delete(bodyFile(id));
            assertThatThrownBy(() -> m.commit(TestMessages.envelope(id, clock, 100, "s@example.net", "r@example.org")))
                    .isInstanceOf(QueueException.class)
                    .extracting(e -> ((QueueException) e).kind()).isEqualTo(QueueException.Kind.STORAGE_ERROR);
        }
        assertNothingLeftOf(id);
    }

    @Test
    void anUnusableSpoolDirectoryFailsTheReceive() throws Exception {
        QueueId id = QueueId.next(clock);
        Path spoolDir = bodyFile(id).getParent();
        for (int i = 0; i < 16 && isNotEmpty(spoolDir); i++) {
            clock.advance(java.time.Duration.ofMillis(4096)); // the next spool directory
            id = QueueId.next(clock);
            spoolDir = bodyFile(id).getParent();
        }
        QueueId unusable = id;
        Files.delete(spoolDir);
        Files.writeString(spoolDir, "not a directory"); // works as root too, unlike chmod
        try {
            assertThatThrownBy(() -> queue.receive(unusable)).isInstanceOf(QueueException.class)
                    .extracting(e -> ((QueueException) e).kind()).isEqualTo(QueueException.Kind.STORAGE_ERROR);
        } finally {
            Files.delete(spoolDir);
            Files.createDirectory(spoolDir);
        }
        assertNothingLeftOf(unusable);
    }

    private static boolean isNotEmpty(Path dir) throws java.io.IOException {
        try (var files = Files.list(dir)) {
            return files.findAny().isPresent();
        }
    }

    @Test
    void aClosedQueueRefusesEverything() throws Exception {
        queue.close();
        assertThatThrownBy(() -> queue.receive(QueueId.next(clock)))
                .extracting(e -> ((QueueException) e).kind()).isEqualTo(QueueException.Kind.UNAVAILABLE);
        assertThatThrownBy(() -> queue.delete(kept))
                .extracting(e -> ((QueueException) e).kind()).isEqualTo(QueueException.Kind.UNAVAILABLE);
        assertThatThrownBy(() -> queue.list(10)).isInstanceOf(IllegalStateException.class);
        queue = H2MailQueue.open(TestMessages.config(dir), TestMessages.MAX_MESSAGE_SIZE, clock);
        assertThat(queue.find(kept)).isPresent();
    }

    @Test
    void noSpaceLeftIsStorageFull() throws Exception {
        DiskSpace disk = new DiskSpace(dir, 0);
        SQLException h2Style = new SQLException("IO Exception: \"Writing to file failed\"",
                new IOException("No space left on device"));
        assertThat(StorageFailure.of("commit", h2Style, disk, 1).kind()).isEqualTo(QueueException.Kind.STORAGE_FULL);
        assertThat(StorageFailure.of("commit", new IOException("Input/output error"), disk, 1).kind())
                .isEqualTo(QueueException.Kind.STORAGE_ERROR);
        // usable space below what the operation needed counts as full, whatever the message says
        assertThat(StorageFailure.of("commit", new IOException("write failed"), disk, Long.MAX_VALUE).kind())
                .isEqualTo(QueueException.Kind.STORAGE_FULL);
    }

    @Test
    void noSpaceLeftIsFoundInACyclicChain() {
        // as H2 builds them on a full disk: the cause's suppressed exception has the first one as its own cause
        IOException enospc = new IOException("No space left on device");
        SQLException outer = new SQLException("General error", enospc);
        SQLException again = new SQLException("General error", outer);
        enospc.addSuppressed(again);
        outer.addSuppressed(again);
        assertThat(StorageFailure.mentionsNoSpace(outer)).isTrue();
        SQLException eio = new SQLException("IO Exception", new IOException("Input/output error"));
        eio.getCause().addSuppressed(new SQLException("again", eio));
        assertThat(StorageFailure.mentionsNoSpace(eio)).isFalse();
    }

    private void assertNothingLeftOf(QueueId id) throws Exception {
        assertThat(queue.find(id)).isEmpty();
        assertThat(bodyFile(id)).doesNotExist();
        assertThat(queue.stats()).isEqualTo(H2MailQueueTest.stats(1, 1000, 1));
        queue.close();
        queue = H2MailQueue.open(TestMessages.config(dir), TestMessages.MAX_MESSAGE_SIZE, clock);
        assertThat(queue.find(id)).isEmpty();
        assertThat(queue.list(10)).hasSize(1);
        assertThat(TestMessages.read(queue.openBody(kept))).isEqualTo(TestMessages.body(kept, 1000));
    }

    private Path bodyFile(QueueId id) throws IOException {
        return dir.resolve("spool").resolve(Spool.subdirectory(id)).resolve(id.value());
    }
}
