package org.backstopmx.testkit.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.backstopmx.core.DsnRet;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.Lease;
import org.backstopmx.core.MailExtension;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueueStats;
import org.backstopmx.core.QueuedMessage;
import org.backstopmx.core.QueuedRecipient;
import org.backstopmx.core.RecipientState;
import org.junit.jupiter.api.Test;

/** The receiving side of the {@link MailQueue} contract: commit, read back, list, delete, abort, close. */
public abstract class ReceivingContract extends MailQueueFixture {

    @Test
    void aLargeBodyComesBackByteForByte() throws Exception {
        QueueId id = QueueId.next(clock);
        byte[] body = body(id, 600_000);
        try (IncomingMessage m = queue.receive(id)) {
            OutputStream out = m.body();
            out.write(body, 0, 10); // small writes, a single byte and writes across the chunk boundaries
            out.write(body[10]);
            for (int i = 11; i < body.length; i += 100_000) {
                out.write(body, i, Math.min(100_000, body.length - i));
            }
            m.commit(new Envelope(id, clock.instant(), "192.0.2.7", "mail.example.net", "sender@example.net", null,
                    null, body.length, List.of(EnvelopeRecipient.of("a@example.org"),
                            EnvelopeRecipient.of("b@example.org"))));
        }

        QueuedMessage found = queue.find(id).orElseThrow();
        assertThat(found.receivedAt()).isEqualTo(clock.instant());
        assertThat(found.size()).isEqualTo(body.length);
        assertThat(found.sender()).isEqualTo("sender@example.net");
        assertThat(found.clientAddress()).isEqualTo("192.0.2.7");
        assertThat(found.recipients()).containsExactly(
                new QueuedRecipient("a@example.org", RecipientState.QUEUED, 0, clock.instant(), null),
                new QueuedRecipient("b@example.org", RecipientState.QUEUED, 0, clock.instant(), null));
        assertThat(queue.list(10)).containsExactly(found);
        assertThat(readAll(queue.openBody(id))).isEqualTo(body);
        assertThat(queue.stats()).isEqualTo(stats(1, body.length, Map.of(RecipientState.QUEUED, 2L)));
    }

    @Test
    void theNullSenderDsnParametersAndExtensionsSurvive() throws Exception {
        QueueId id = QueueId.next(clock);
        byte[] body = body(id, 1234);
        Envelope envelope = new Envelope(id, clock.instant(), "2001:db8::25", "[192.0.2.1]", "", "QQ314159",
                DsnRet.HDRS, body.length,
                List.of(new EnvelopeRecipient("alice@example.org", "SUCCESS,DELAY", "rfc822;alice@example.org"),
                        new EnvelopeRecipient("bob@Example.ORG", "NEVER", null),
                        EnvelopeRecipient.of("\u7528\u6237@example.org")),
                Set.of(MailExtension.SMTPUTF8, MailExtension.EIGHTBITMIME));
        try (IncomingMessage m = queue.receive(id)) {
            m.body().write(body);
            m.commit(envelope);
        }

        assertThat(queue.envelope(id)).contains(envelope);
        assertThat(queue.find(id).orElseThrow().sender()).isEmpty();
        assertThat(queue.envelope(QueueId.next(clock))).isEmpty();
    }

    @Test
    void anEmptyBodyIsAMessageToo() throws Exception {
        QueueId id = QueueId.next(clock);
        try (IncomingMessage m = queue.receive(id)) {
            m.commit(new Envelope(id, clock.instant(), "192.0.2.7", "h", "s@example.net", null, null, 0,
                    List.of(EnvelopeRecipient.of("a@example.org"))));
        }
        assertThat(readAll(queue.openBody(id))).isEmpty();
        assertThat(queue.find(id).orElseThrow().size()).isZero();
    }

    @Test
    void listIsOldestFirstAndLimited() throws Exception {
        List<QueueId> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ids.add(put("r" + i + "@example.org"));
            clock.advance(Duration.ofSeconds(1));
        }
        assertThat(queue.list(3)).extracting(QueuedMessage::id).containsExactlyElementsOf(ids.subList(0, 3));
        assertThat(queue.list(100)).extracting(QueuedMessage::id).containsExactlyElementsOf(ids);
        assertThat(queue.list(0)).isEmpty();
    }

    @Test
    void deleteRemovesTheMessageAndItsBody() throws Exception {
        QueueId keep = put("a@example.org");
        QueueId gone = put("b@example.org", "c@example.org");

        assertThat(queue.delete(gone)).isTrue();
        assertThat(queue.delete(gone)).isFalse();

        assertThat(queue.find(gone)).isEmpty();
        assertThat(queue.list(10)).extracting(QueuedMessage::id).containsExactly(keep);
        assertThatThrownBy(() -> queue.openBody(gone)).isInstanceOf(QueueException.class);
        assertThat(queue.stats()).isEqualTo(stats(1, 300, Map.of(RecipientState.QUEUED, 1L)));
        assertThat(queue.leaseDue(10, LEASE)).extracting(Lease::queueId).containsExactly(keep);
    }

    @Test
    void anAbortedOrUncommittedMessageLeavesNothing() throws Exception {
        QueueId aborted = QueueId.next(clock);
        IncomingMessage m = queue.receive(aborted);
        m.body().write(new byte[300_000]);
        m.abort();
        m.abort(); // twice is fine
        assertThatThrownBy(() -> m.commit(new Envelope(aborted, clock.instant(), "192.0.2.7", "h", "a@b.example",
                null, null, 3, List.of(EnvelopeRecipient.of("d@example.org"))))).isInstanceOf(QueueException.class);

        try (IncomingMessage closed = queue.receive(QueueId.next(clock))) {
            closed.body().write(new byte[] {4, 5});
        }
        assertThat(queue.list(10)).isEmpty();
        assertThat(queue.stats()).isEqualTo(stats(0, 0, Map.of()));
        assertThat(queue.nextDue()).isEmpty();
    }

    @Test
    void commitTwiceIsAProgrammingError() throws Exception {
        QueueId id = QueueId.next(clock);
        try (IncomingMessage m = queue.receive(id)) {
            m.body().write('x');
            Envelope e = new Envelope(id, clock.instant(), "192.0.2.7", "h", "a@b.example", null, null, 1,
                    List.of(EnvelopeRecipient.of("d@example.org")));
            m.commit(e);
            assertThatThrownBy(() -> m.commit(e)).isInstanceOf(IllegalStateException.class);
        }
        assertThat(queue.find(id)).isPresent(); // close() after commit does not abort
    }

    @Test
    void closingAbortsMessagesBeingReceivedAndRefusesNewOnes() throws Exception {
        QueueId id = QueueId.next(clock);
        IncomingMessage m = queue.receive(id);
        m.body().write(new byte[] {1, 2, 3});
        queue.close();
        assertThatThrownBy(() -> m.commit(new Envelope(id, clock.instant(), "192.0.2.7", "h", "a@b.example", null,
                null, 3, List.of(EnvelopeRecipient.of("d@example.org")))))
                .isInstanceOf(QueueException.class)
                .extracting(e -> ((QueueException) e).kind()).isEqualTo(QueueException.Kind.UNAVAILABLE);
        assertThatThrownBy(() -> queue.receive(QueueId.next(clock)))
                .extracting(e -> ((QueueException) e).kind()).isEqualTo(QueueException.Kind.UNAVAILABLE);
        assertThat(queue.hasRoomFor(1)).isFalse();
        queue = openAgain(clock);
        assertThat(queue.list(10)).isEmpty();
    }

    @Test
    void aCommittedMessageSurvivesARestart() throws Exception {
        QueueId id = put("a@example.org", "b@example.org");
        byte[] body = readAll(queue.openBody(id));
        reopen();
        assertThat(queue.find(id).orElseThrow().recipients()).hasSize(2);
        assertThat(readAll(queue.openBody(id))).isEqualTo(body);
        assertThat(queue.stats()).isEqualTo(stats(1, 300, Map.of(RecipientState.QUEUED, 2L)));
    }

    @Test
    void theArrivalListenerSetsTheFirstAttemptAndHearsOfEachDurableCommit() throws Exception {
        List<QueueId> arrived = new ArrayList<>();
        Instant later = clock.instant().plus(Duration.ofMinutes(7));
        queue.onArrival(new MailQueue.ArrivalListener() {
            @Override
            public Instant firstAttempt(String domain, Instant now) {
                return domain.equals("down.example") ? later : now;
            }

            @Override
            public void arrived(Envelope envelope) {
                assertThat(queue.find(envelope.id())).isPresent(); // committed before it is told
                arrived.add(envelope.id());
            }
        });
        QueueId id = put("a@up.example", "b@down.example");
        assertThat(arrived).containsExactly(id);
        assertThat(queue.find(id).orElseThrow().recipients()).extracting(QueuedRecipient::nextAttemptAt)
                .containsExactly(clock.instant(), later);
        assertThat(queue.leaseDue(10, LEASE)).extracting(Lease::address).containsExactly("a@up.example");
        assertThat(queue.nextDue()).contains(later);
    }

    /** Counts with every state not named at 0. */
    protected static QueueStats stats(long messages, long bytes, Map<RecipientState, Long> recipients) {
        return new QueueStats(messages, bytes, recipients);
    }
}
