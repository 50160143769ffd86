package org.backstopmx.queue;

import java.nio.file.Path;
import java.util.List;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.QueueId;
import org.backstopmx.testkit.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real H2 queue in a fresh directory on a mutable clock, opened before each test and closed after it: what the
 * tests of the queue's receiving, delivering and admin sides share. It lives here and not in {@code testkit}:
 * {@code testkit} is a test dependency of this module, so it cannot depend on {@link H2MailQueue} without a cycle,
 * and every test that opens an {@code H2MailQueue} is in this module.
 */
abstract class H2QueueFixture {
    @TempDir
    Path dir;
    final MutableClock clock;
    H2MailQueue queue;

    H2QueueFixture() {
        this("2026-03-01T10:00:00Z");
    }

    H2QueueFixture(String clockStart) {
        clock = MutableClock.startingAt(clockStart);
    }

    @BeforeEach
    void open() throws Exception {
        queue = H2MailQueue.open(TestMessages.config(dir), TestMessages.MAX_MESSAGE_SIZE, clock);
    }

    @AfterEach
    void close() {
        queue.close();
    }

    /** Queues a message of 500 bytes to {@code recipients}, received now; returns its id. */
    QueueId enqueue(String... recipients) throws Exception {
        QueueId id = QueueId.next(clock);
        byte[] body = TestMessages.body(id, 500);
        List<EnvelopeRecipient> rcpts = java.util.Arrays.stream(recipients).map(EnvelopeRecipient::of).toList();
        try (IncomingMessage m = queue.receive(id)) {
            m.body().write(body);
            m.commit(new Envelope(id, clock.instant(), "192.0.2.7", "mx.example.net", "s@example.net", null, null,
                    body.length, rcpts));
        }
        return id;
    }

    /** Closes the queue and opens it again on the same directory, as a restart does. */
    void reopen() throws Exception {
        queue.close();
        queue = H2MailQueue.open(TestMessages.config(dir), TestMessages.MAX_MESSAGE_SIZE, clock);
    }
}
