package org.backstopmx.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.backstopmx.core.DsnRet;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.MailExtension;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.SpfResult;
import org.backstopmx.core.QueueStats;
import org.backstopmx.core.QueuedMessage;
import org.backstopmx.core.QueuedRecipient;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.config.QueueConfig;
import org.junit.jupiter.api.Test;

class H2MailQueueTest extends H2QueueFixture {
    H2MailQueueTest() {
        super("2026-03-01T10:15:30.123456789Z");
    }


    @Test
    void aCommittedMessageComesBackExactly() throws Exception {
        QueueId id = QueueId.next(clock);
        byte[] body = TestMessages.body(id, 300_000);
        try (IncomingMessage m = queue.receive(id)) {
            OutputStream out = m.body();
            out.write(body, 0, 10); // small writes, a single byte and a write larger than the buffer
            out.write(body[10]);
            out.write(body, 11, body.length - 11);
            m.commit(TestMessages.envelope(id, clock, body.length, "sender@example.net", "a@example.org",
                    "b@example.org"));
        }

        QueuedMessage found = queue.find(id).orElseThrow();
        assertThat(found.id()).isEqualTo(id);
        assertThat(found.receivedAt()).isEqualTo(clock.instant());
        assertThat(found.size()).isEqualTo(body.length);
        assertThat(found.sender()).isEqualTo("sender@example.net");
        assertThat(found.clientAddress()).isEqualTo("192.0.2.7");
        assertThat(found.recipients()).containsExactly(
                new QueuedRecipient("a@example.org", RecipientState.QUEUED, 0, clock.instant(), null),
                new QueuedRecipient("b@example.org", RecipientState.QUEUED, 0, clock.instant(), null));
        assertThat(queue.list(10)).containsExactly(found);
        assertThat(TestMessages.read(queue.openBody(id))).isEqualTo(body);
        assertThat(dir.resolve("spool").resolve(Spool.subdirectory(id)).resolve(id.value())).exists();
    }

    @Test
    void theNullSenderAndDsnParametersSurvive() throws Exception {
        QueueId id = QueueId.next(clock);
        byte[] body = TestMessages.body(id, 1234);
        Envelope envelope = TestMessages.dsnEnvelope(id, clock, body.length);
        try (IncomingMessage m = queue.receive(id)) {
            m.body().write(body);
            m.commit(envelope);
        }

        assertThat(queue.envelope(id)).contains(envelope);
        Envelope stored = queue.envelope(id).orElseThrow();
        assertThat(stored.isNullSender()).isTrue();
        assertThat(stored.ret()).isEqualTo(DsnRet.HDRS);
        assertThat(stored.envId()).isEqualTo("QQ314159");
        assertThat(stored.recipients()).extracting(EnvelopeRecipient::dsnNotify)
                .containsExactly("SUCCESS,DELAY", "NEVER", null);
        assertThat(stored.recipients()).extracting(EnvelopeRecipient::orcpt)
                .containsExactly("rfc822;alice@example.org", null, null);
        assertThat(queue.find(id).orElseThrow().sender()).isEmpty();
    }

    @Test
    void theExtensionsAMessageNeedsAndItsSpfResultSurviveWithItsUtf8Addresses() throws Exception {
        QueueId id = QueueId.next(clock);
        byte[] body = TestMessages.body(id, 100);
        Envelope envelope = new Envelope(id, clock.instant(), "192.0.2.7", "client.example", "j\u00f6rg@example.net",
                null, null, body.length, List.of(EnvelopeRecipient.of("\u7528\u6237@example.org")),
                Set.of(MailExtension.SMTPUTF8, MailExtension.EIGHTBITMIME), SpfResult.FAIL);
        try (IncomingMessage m = queue.receive(id)) {
            m.body().write(body);
            m.commit(envelope);
        }

        assertThat(queue.envelope(id)).contains(envelope);
        assertThat(queue.envelope(id).orElseThrow().needs(MailExtension.SMTPUTF8)).isTrue();
        assertThat(queue.envelope(id).orElseThrow().spf()).isEqualTo(SpfResult.FAIL);
    }

    @Test
    void listIsOldestFirstAndLimited() throws Exception {
        List<QueueId> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ids.add(TestMessages.put(queue, clock, 100 + i));
            clock.advance(Duration.ofSeconds(1));
        }
        assertThat(queue.list(3)).extracting(QueuedMessage::id).containsExactlyElementsOf(ids.subList(0, 3));
        assertThat(queue.list(100)).extracting(QueuedMessage::id).containsExactlyElementsOf(ids);
        assertThat(queue.list(0)).isEmpty();
    }

    @Test
    void deleteRemovesRowsAndBodyAndUpdatesTheCounters() throws Exception {
        QueueId keep = TestMessages.put(queue, clock, 1000);
        QueueId gone = TestMessages.put(queue, clock, 2000);
        assertThat(queue.stats()).isEqualTo(stats(2, 3000, 2));

        assertThat(queue.delete(gone)).isTrue();
        assertThat(queue.delete(gone)).isFalse();

        assertThat(queue.find(gone)).isEmpty();
        assertThat(queue.list(10)).extracting(QueuedMessage::id).containsExactly(keep);
        assertThat(Files.exists(dir.resolve("spool").resolve(Spool.subdirectory(gone)).resolve(gone.value())))
                .isFalse();
        assertThatThrownBy(() -> queue.openBody(gone)).isInstanceOf(QueueException.class);
        assertThat(queue.stats()).isEqualTo(stats(1, 1000, 1));
    }

    @Test
    void abortAndCloseLeaveNoFileBehind() throws Exception {
        QueueId aborted = QueueId.next(clock);
        IncomingMessage m = queue.receive(aborted);
        m.body().write(new byte[] {1, 2, 3});
        m.abort();
        m.abort(); // twice is fine
        assertThatThrownBy(() -> m.commit(TestMessages.envelope(aborted, clock, 3, "a@b.c", "d@e.f")))
                .isInstanceOf(QueueException.class);

        QueueId closed = QueueId.next(clock);
        try (IncomingMessage c = queue.receive(closed)) {
            c.body().write(new byte[] {4, 5});
        }
        assertThat(spoolFiles()).isEmpty();
        assertThat(queue.stats()).isEqualTo(stats(0, 0, 0));
    }

    @Test
    void commitTwiceIsAProgrammingError() throws Exception {
        QueueId id = QueueId.next(clock);
        try (IncomingMessage m = queue.receive(id)) {
            m.body().write('x');
            Envelope e = TestMessages.envelope(id, clock, 1, "a@b.c", "d@example.org");
            m.commit(e);
            assertThatThrownBy(() -> m.commit(e)).isInstanceOf(IllegalStateException.class);
        }
        assertThat(queue.find(id)).isPresent(); // close() after commit does not abort
    }

    @Test
    void closingAbortsMessagesBeingReceived() throws Exception {
        assertThat(queue.whyNotWritable()).isEmpty();
        QueueId id = QueueId.next(clock);
        IncomingMessage m = queue.receive(id);
        m.body().write(new byte[] {1, 2, 3});
        queue.close();
        assertThat(spoolFiles()).isEmpty();
        assertThatThrownBy(() -> m.commit(TestMessages.envelope(id, clock, 3, "a@b.c", "d@example.org")))
                .isInstanceOf(QueueException.class)
                .extracting(e -> ((QueueException) e).kind()).isEqualTo(QueueException.Kind.UNAVAILABLE);
        assertThatThrownBy(() -> queue.receive(QueueId.next(clock)))
                .extracting(e -> ((QueueException) e).kind()).isEqualTo(QueueException.Kind.UNAVAILABLE);
        assertThat(queue.hasRoomFor(1)).isFalse();
        assertThat(queue.whyNotWritable()).contains("the queue is closed");
    }

    @Test
    void eachCommitAndDeletionLogsOneLineKeyedByQueueId() throws Exception {
        ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                MessageLog.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
                new ch.qos.logback.core.read.ListAppender<>();
        lines.start();
        ch.qos.logback.classic.Level level = log.getLevel();
        log.setLevel(ch.qos.logback.classic.Level.INFO);
        log.addAppender(lines);
        try {
            QueueId id = QueueId.next(clock);
            try (IncomingMessage m = queue.receive(id)) {
                m.body().write(new byte[42]);
                m.commit(new Envelope(id, clock.instant(), "192.0.2.7", "evil\r\nhelo", "", null, null, 42,
                        List.of(EnvelopeRecipient.of("a@example.org"), EnvelopeRecipient.of("b@example.org"))));
            }
            queue.delete(id);
            assertThat(lines.list).extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                    .containsExactly(id + ": received from=<> size=42 nrcpt=2 client=192.0.2.7 helo=evil??helo",
                            id + ": deleted by the administrator nrcpt=2",
                            id + ": removed size=42 nrcpt=2");
        } finally {
            log.detachAppender(lines);
            log.setLevel(level);
        }
    }

    @Test
    void hasRoomForComparesFreeSpaceWithTheReserve() throws Exception {
        assertThat(queue.hasRoomFor(1000)).isTrue(); // reserve: 1.5 x 10 MB
        queue.close();
        QueueConfig huge = new QueueConfig(dir, Duration.ofDays(5), Long.MAX_VALUE / 2, 4.0, 64L << 20);
        queue = H2MailQueue.open(huge, TestMessages.MAX_MESSAGE_SIZE, clock);
        assertThat(queue.hasRoomFor(0)).isFalse();
        assertThat(queue.hasRoomFor(Long.MAX_VALUE)).isFalse(); // no overflow into "yes"
        assertThat(DiskSpace.reserveFor(0, 10_000_000)).isEqualTo(15_000_000);
        assertThat(DiskSpace.reserveFor(123, 10_000_000)).isEqualTo(123);
    }

    private List<Path> spoolFiles() throws Exception {
        try (var files = Files.walk(dir.resolve("spool"))) {
            return files.filter(Files::isRegularFile).toList();
        }
    }

    static QueueStats stats(long messages, long bytes, long queued) {
        return new QueueStats(messages, bytes, java.util.Map.of(RecipientState.QUEUED, queued));
    }
}
