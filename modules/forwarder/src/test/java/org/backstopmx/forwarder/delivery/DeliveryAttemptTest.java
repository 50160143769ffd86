package org.backstopmx.forwarder.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.Lease;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.config.QueueConfig;
import org.backstopmx.queue.H2MailQueue;
import org.backstopmx.testkit.MutableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A job whose lease is about to end when its turn comes is not started, and its leases are given back at once. */
class DeliveryAttemptTest {
    private static final Duration LEASE = Duration.ofMinutes(10);

    @TempDir
    Path dir;

    @Test
    void aJobWhoseLeaseRanOutWhileWaitingGivesItsLeasesBack() throws Exception {
        MutableClock clock = MutableClock.startingAt("2026-12-02T10:00:00Z");
        try (H2MailQueue queue = H2MailQueue.open(new QueueConfig(dir, Duration.ofDays(5), 0, 4.0, 64L << 20),
                10_000_000, clock)) {
            QueueId id = QueueId.next(clock);
            byte[] body = "Subject: waited\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII);
            try (IncomingMessage m = queue.receive(id)) {
                m.body().write(body);
                m.commit(new Envelope(id, clock.instant(), "192.0.2.7", "client.example.net", "a@example.net", null,
                        null, body.length, List.of(EnvelopeRecipient.of("b@example.org"))));
            }
            List<Lease> leases = queue.leaseDue(10, LEASE);
            assertThat(leases).hasSize(1);
            // its turn comes 3 min before the lease ends, sooner than the next renewal (every third of the lease, as
            // the scheduler renews): too late to start an attempt that renewals must keep
            clock.advance(LEASE.minusMinutes(3));
            DeliveryAttempt attempt = new DeliveryAttempt(queue, null, null, null, null, null, clock,
                    new LeaseKeeper(queue, LEASE, clock));

            assertThat(attempt.deliver(new Job("example.org", id, leases), null)).isNull();

            assertThat(queue.leaseDue(10, LEASE)).as("due again now, not at the lease's end")
                    .extracting(Lease::queueId).containsExactly(id);
        }
    }
}
