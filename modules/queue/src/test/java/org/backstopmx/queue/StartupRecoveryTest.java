package org.backstopmx.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.RecipientState;
import org.backstopmx.testkit.MutableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spool is the record of acceptance: what the database lost is put back from it at start, what was never
 * acknowledged is removed, what cannot be read is kept aside, and a database that went back in time stops the start.
 */
class StartupRecoveryTest {
    @TempDir
    Path dir;
    final MutableClock clock = MutableClock.startingAt("2026-03-01T10:00:00Z");

    private H2MailQueue open() throws QueueException {
        return H2MailQueue.open(TestMessages.config(dir), TestMessages.MAX_MESSAGE_SIZE, clock);
    }

    private List<Envelope> fill(int n) throws Exception {
        List<Envelope> envelopes = new ArrayList<>();
        try (H2MailQueue queue = open()) {
            for (int i = 0; i < n; i++) {
                QueueId id = QueueId.next(clock);
                byte[] body = TestMessages.body(id, 300 + 41 * i);
                Envelope e = i % 3 == 0 ? TestMessages.dsnEnvelope(id, clock, body.length)
                        : TestMessages.envelope(id, clock, body.length, "s@example.net", "a@example.org");
                try (IncomingMessage m = queue.receive(id)) {
                    m.body().write(body);
                    m.commit(e);
                }
                envelopes.add(queue.envelope(id).orElseThrow());
                clock.advance(java.time.Duration.ofSeconds(1));
            }
        }
        return envelopes;
    }

    /** Deletes rows with the queue closed, as another H2 client (or a lost commit) would. */
    private void deleteRows(List<QueueId> ids) throws Exception {
        try (Connection c = DriverManager.getConnection(QueueDatabase.url(dir) + ";MAX_COMPACT_TIME=0",
                QueueDatabase.USER, "")) {
            for (String table : new String[] {"attempt", "recipient"}) {
                try (PreparedStatement p = c.prepareStatement("DELETE FROM " + table + " WHERE message_id = ?")) {
                    for (QueueId id : ids) {
                        p.setString(1, id.value());
                        p.executeUpdate();
                    }
                }
            }
            try (PreparedStatement p = c.prepareStatement("DELETE FROM message WHERE id = ?")) {
                for (QueueId id : ids) {
                    p.setString(1, id.value());
                    p.executeUpdate();
                }
            }
            try (Statement s = c.createStatement()) {
                s.execute("SHUTDOWN");
            }
        }
    }

    private Path fileOf(QueueId id) {
        return dir.resolve("spool").resolve(Spool.subdirectory(id)).resolve(id.value());
    }

    private long spoolFiles() throws IOException {
        try (Stream<Path> files = Files.walk(dir.resolve("spool"))) {
            return files.filter(Files::isRegularFile).count();
        }
    }

    @Test
    void messagesWhoseRowsTheDatabaseLostAreInsertedAgainFromTheirSpoolFiles() throws Exception {
        List<Envelope> envelopes = fill(12);
        List<QueueId> lost = List.of(envelopes.get(0).id(), envelopes.get(4).id(), envelopes.get(11).id());
        deleteRows(lost);

        try (H2MailQueue queue = open()) {
            assertThat(queue.stats().messages()).isEqualTo(12);
            for (Envelope e : envelopes) {
                assertThat(queue.envelope(e.id())).as(e.id().value()).contains(e);
                assertThat(TestMessages.read(queue.openBody(e.id())))
                        .isEqualTo(TestMessages.body(e.id(), (int) e.size()));
            }
            for (QueueId id : lost) {
                assertThat(queue.find(id).orElseThrow().recipients())
                        .allSatisfy(r -> assertThat(r.state()).isEqualTo(RecipientState.QUEUED));
            }
            // and they are due: the forwarder gets them
            assertThat(queue.leaseDue(1000, java.time.Duration.ofMinutes(5)).stream().map(l -> l.queueId()).distinct())
                    .containsAll(lost);
        }
    }

    @Test
    void aSpoolFileWithoutItsEndMarkerIsRemovedAndOneThatCannotBeReadIsQuarantined() throws Exception {
        List<Envelope> envelopes = fill(3);
        // a session cut during DATA: the header and part of a body, no end marker
        QueueId cut = QueueId.next(clock);
        byte[] partial = TestMessages.body(cut, 2000);
        try (FileChannel ch = FileChannel.open(fileOf(cut), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(SpoolFile.HEADER));
            ch.write(java.nio.ByteBuffer.wrap(partial));
        }
        // a message the database lost whose envelope is damaged on disk
        QueueId damaged = envelopes.get(1).id();
        deleteRows(List.of(damaged));
        byte[] bytes = Files.readAllBytes(fileOf(damaged));
        bytes[bytes.length - SpoolFile.END_LENGTH - 3] ^= 0x20;
        Files.write(fileOf(damaged), bytes);

        try (H2MailQueue queue = open()) {
            assertThat(Files.exists(fileOf(cut))).isFalse();
            assertThat(queue.find(damaged)).isEmpty();
            assertThat(Files.exists(fileOf(damaged))).isFalse();
            Path kept = dir.resolve("quarantine").resolve(damaged.value());
            assertThat(kept).exists();
            assertThat(Files.readAllBytes(kept)).isEqualTo(bytes);
            assertThat(queue.quarantined()).isEqualTo(1);
            assertThat(queue.stats().messages()).isEqualTo(2);
        }
        assertThat(spoolFiles()).isEqualTo(2);
    }

    @Test
    void aQueueOfTheEarlierFormatStillOpensAndServesItsBodies() throws Exception {
        List<Envelope> envelopes = fill(4);
        // the previous release wrote bodies only: strip header and envelope from two files
        for (Envelope e : envelopes.subList(0, 2)) {
            Files.write(fileOf(e.id()), TestMessages.body(e.id(), (int) e.size()));
        }
        // one body of the earlier format whose rows are gone: nothing to rebuild it from, so it is kept aside
        deleteRows(List.of(envelopes.get(1).id()));
        try (H2MailQueue queue = open()) {
            assertThat(queue.stats().messages()).isEqualTo(3);
            Envelope legacy = envelopes.get(0);
            assertThat(TestMessages.read(queue.openBody(legacy.id())))
                    .isEqualTo(TestMessages.body(legacy.id(), (int) legacy.size()));
            assertThat(dir.resolve("quarantine").resolve(envelopes.get(1).id().value())).exists();
            assertThat(queue.delete(legacy.id())).isTrue();
            assertThat(Files.exists(fileOf(legacy.id()))).isFalse();
        }
    }

    @Test
    void aDatabaseCutShortOrEmptiedIsRefusedAndRebuiltFromTheSpool() throws Exception {
        List<Envelope> envelopes = fill(21);
        Path db = dir.resolve(QueueDatabase.FILE_NAME);
        long size = Files.size(db);
        try (FileChannel ch = FileChannel.open(db, StandardOpenOption.WRITE)) {
            ch.truncate(size / 2);
        }
        assertThatThrownBy(this::open).isInstanceOf(QueueException.class)
                .hasMessageContaining(db.toString()).hasMessageContaining("queue rebuild");
        try (FileChannel ch = FileChannel.open(db, StandardOpenOption.WRITE)) {
            ch.truncate(0);
        }
        assertThatThrownBy(this::open).isInstanceOf(QueueException.class)
                .hasMessageContaining("it is empty while the spool holds 21 message files")
                .hasMessageContaining("queue rebuild");
        Files.delete(db);
        assertThatThrownBy(this::open).isInstanceOf(QueueException.class).hasMessageContaining("it is missing");

        QueueRebuild.Plan dry = QueueRebuild.plan(dir);
        assertThat(dry.restore()).isEqualTo(envelopes);
        assertThat(Files.exists(db)).isFalse();

        QueueRebuild.Plan done = QueueRebuild.run(dir, clock);
        assertThat(done.restore()).hasSize(21);
        try (H2MailQueue queue = open()) {
            assertThat(queue.stats().messages()).isEqualTo(21);
            for (Envelope e : envelopes) {
                assertThat(queue.envelope(e.id())).contains(e);
                assertThat(TestMessages.read(queue.openBody(e.id())))
                        .isEqualTo(TestMessages.body(e.id(), (int) e.size()));
            }
        }
    }

    @Test
    void rebuildSetsTheOldDatabaseAsideInsteadOfDeletingIt() throws Exception {
        List<Envelope> envelopes = fill(5);
        byte[] old = Files.readAllBytes(dir.resolve(QueueDatabase.FILE_NAME));
        QueueRebuild.Plan done = QueueRebuild.run(dir, clock);
        assertThat(done.databaseMovedTo()).isNotNull().hasParent(dir.resolve("quarantine"));
        assertThat(Files.readAllBytes(done.databaseMovedTo())).isEqualTo(old);
        try (H2MailQueue queue = open()) {
            assertThat(queue.list(100)).extracting(m -> m.id()).containsExactlyElementsOf(
                    envelopes.stream().map(Envelope::id).toList());
        }
    }

    @Test
    void rebuildRefusesWhileTheQueueIsOpen() throws Exception {
        fill(1);
        try (H2MailQueue queue = open()) {
            assertThatThrownBy(() -> QueueRebuild.run(dir, clock)).isInstanceOf(QueueException.class)
                    .hasMessageContaining("already open");
            assertThat(queue.stats().messages()).isEqualTo(1);
        }
    }
}
