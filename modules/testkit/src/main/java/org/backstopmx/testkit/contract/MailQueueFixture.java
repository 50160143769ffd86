package org.backstopmx.testkit.contract;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.Lease;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.RetryPolicy;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.core.SmtpStage;
import org.backstopmx.core.config.RetryConfig;
import org.backstopmx.testkit.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * What the {@link MailQueue} contract tests share: a fresh, empty queue of the implementation under test on a clock
 * the tests move (whole seconds, which every implementation stores exactly), opened before each test and closed after
 * it, and the messages, outcomes and retry policy the tests use. An implementation's test class says only how to open
 * an empty queue and how to open the same one again.
 */
public abstract class MailQueueFixture {
    protected static final Duration LEASE = Duration.ofMinutes(10);
    protected static final DeliveryOutcome OK = new DeliveryOutcome.Delivered(
            SmtpReply.of(250, "2.0.0", "Ok: queued as 42"), "mail.example.org", SmtpStage.DOT);
    protected static final DeliveryOutcome TRY_LATER = new DeliveryOutcome.Transient(
            SmtpReply.of(451, "4.3.0", "try again later"), "mail.example.org", SmtpStage.RCPT);
    protected static final DeliveryOutcome NO_SUCH_USER = new DeliveryOutcome.Permanent(
            SmtpReply.of(550, "5.1.1", "no such user"), "mail.example.org", SmtpStage.RCPT);

    protected final MutableClock clock = MutableClock.startingAt("2026-03-01T10:00:00Z");
    protected final RetryPolicy policy = new RetryPolicy(new RetryConfig(Duration.ofMinutes(5),
            Duration.ofMinutes(67)), Duration.ofDays(5), new SplittableRandom(42));
    protected MailQueue queue;

    /** Opens a new, empty queue on {@code clock}. Called before each test. */
    protected abstract MailQueue openEmpty(MutableClock clock) throws Exception;

    /** Opens the queue that {@link #openEmpty} made again, after it was closed: what a restart of the node does. */
    protected abstract MailQueue openAgain(MutableClock clock) throws Exception;

    @BeforeEach
    void openQueue() throws Exception {
        queue = openEmpty(clock);
    }

    @AfterEach
    void closeQueue() {
        queue.close();
    }

    /** Closes the queue and opens it again. */
    protected void reopen() throws Exception {
        queue.close();
        queue = openAgain(clock);
    }

    /**
     * A body of {@code size} bytes that depends on the id: CRLF lines and every byte value, NUL and 8-bit included,
     * since a queue stores bytes, not text.
     */
    protected static byte[] body(QueueId id, int size) {
        byte[] out = new byte[size];
        byte[] head = ("Message-ID: <" + id + "@contract.test>\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        new SplittableRandom(id.hashCode()).nextBytes(out);
        System.arraycopy(head, 0, out, 0, Math.min(head.length, size));
        for (int i = 998; i + 1 < size; i += 1000) {
            out[i] = '\r';
            out[i + 1] = '\n';
        }
        return out;
    }

    /** Commits a 300-byte message from {@code sender@example.net} to {@code recipients}; returns its id. */
    protected QueueId put(String... recipients) throws IOException, QueueException {
        return put(queue, recipients);
    }

    /** As {@link #put(String...)}, into {@code target}. */
    protected QueueId put(MailQueue target, String... recipients) throws IOException, QueueException {
        QueueId id = QueueId.next(clock);
        byte[] body = body(id, 300);
        List<EnvelopeRecipient> rcpts = Arrays.stream(recipients).map(EnvelopeRecipient::of).toList();
        try (IncomingMessage m = target.receive(id)) {
            OutputStream out = m.body();
            out.write(body);
            m.commit(new Envelope(id, clock.instant(), "192.0.2.7", "mail.example.net", "sender@example.net", null,
                    null, body.length, rcpts));
        }
        return id;
    }

    /** Records {@code outcome} for {@code lease} as the forwarder does, with the policy's decision for now. */
    protected boolean record(Lease lease, DeliveryOutcome outcome) throws QueueException {
        return record(queue, lease, outcome);
    }

    protected boolean record(MailQueue target, Lease lease, DeliveryOutcome outcome) throws QueueException {
        return target.recordOutcome(lease, outcome, decide(lease, outcome));
    }

    protected RetryPolicy.Decision decide(Lease lease, DeliveryOutcome outcome) {
        return policy.decide(lease.state(), outcome, lease.attempts(), lease.firstQueuedAt(), clock.instant());
    }

    protected static byte[] readAll(InputStream in) throws IOException {
        try (in) {
            return in.readAllBytes();
        }
    }
}
