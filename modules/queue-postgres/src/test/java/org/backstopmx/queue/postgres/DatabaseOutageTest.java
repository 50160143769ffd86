package org.backstopmx.queue.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.testkit.MutableClock;
import org.backstopmx.testkit.PostgresServer;
import org.junit.jupiter.api.Test;

/**
 * The database goes away and comes back (a restart on the same data, as after a failover): while it is away nothing
 * is accepted (the SMTP side answers 451, never 250) and the queue says it is not writable; once it is back the same
 * queue object works again without a restart of the node, and nothing committed before is lost.
 */
class DatabaseOutageTest {
    private static final Duration LEASE = Duration.ofMinutes(5);
    private final MutableClock clock = MutableClock.startingAt("2026-03-01T10:00:00Z");

    @Test
    void nothingIsAcceptedWhileTheDatabaseIsAwayAndTheQueueResumesWhenItIsBack() throws Exception {
        TestDatabase db = TestDatabase.create();
        PostgresServer server = TestDatabase.server();
        try (PostgresMailQueue queue = db.open("node-a", clock)) {
            QueueId before = put(queue);
            server.stop();
            try {
                assertThatThrownBy(() -> put(queue)).isInstanceOf(QueueException.class)
                        .extracting(e -> ((QueueException) e).kind()).isEqualTo(QueueException.Kind.UNAVAILABLE);
                assertThat(queue.whyNotWritable()).get().asString().contains("cannot be reached");
                assertThatThrownBy(() -> queue.leaseDue(10, LEASE)).isInstanceOf(QueueException.class);
            } finally {
                server.restart();
            }
            // the pool replaces its dead connections by itself
            await().atMost(Duration.ofSeconds(30)).until(() -> queue.whyNotWritable().isEmpty());
            QueueId after = put(queue);
            assertThat(queue.leaseDue(10, LEASE)).extracting(l -> l.queueId()).containsExactly(before, after);
        }
    }

    private QueueId put(PostgresMailQueue queue) throws Exception {
        QueueId id = QueueId.next(clock);
        byte[] body = "Subject: outage\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII);
        try (IncomingMessage m = queue.receive(id)) {
            m.body().write(body);
            m.commit(new Envelope(id, clock.instant(), "192.0.2.9", "client.example", "s@example.net", null, null,
                    body.length, List.of(EnvelopeRecipient.of("r@example.org"))));
        }
        return id;
    }
}
