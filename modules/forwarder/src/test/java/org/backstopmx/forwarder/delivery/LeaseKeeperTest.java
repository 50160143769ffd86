package org.backstopmx.forwarder.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.Lease;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.config.QueueConfig;
import org.backstopmx.queue.H2MailQueue;
import org.backstopmx.testkit.FaultyMailQueue;
import org.backstopmx.testkit.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The renewal of the leases the forwarder holds, over a real H2 queue on a moved clock: a held job keeps its lease for
 * as long as it is held, a waiting job whose lease was lost is dropped and gives back what it still held, a running
 * one goes on, and a renewal that fails is tried again a second later.
 */
class LeaseKeeperTest {
    private static final Duration LEASE = Duration.ofMinutes(3);

    @TempDir
    Path dir;

    private final MutableClock clock = MutableClock.startingAt("2026-12-02T10:00:00Z");
    private H2MailQueue h2;
    private FaultyMailQueue queue;
    private LeaseKeeper keeper;

    @BeforeEach
    void open() throws Exception {
        h2 = H2MailQueue.open(new QueueConfig(dir, Duration.ofDays(5), 0, 4.0, 64L << 20), 10_000_000, clock);
        queue = new FaultyMailQueue(h2);
        keeper = new LeaseKeeper(queue, LEASE, clock);
    }

    @AfterEach
    void close() {
        h2.close();
    }

    @Test
    void aHeldJobKeepsItsLeaseEveryThirdOfTheLeaseTimeAndMayStartLongAfterItsFirstEnd() throws Exception {
        QueueId id = put("a@example.org", "b@example.org");
        Job job = new Job("example.org", id, queue.leaseDue(10, LEASE));
        keeper.hold(job);
        assertThat(keeper.nextRenewal()).contains(clock.instant().plus(Duration.ofMinutes(1)));

        for (int i = 0; i < 9; i++) {
            clock.advance(Duration.ofSeconds(59));
            keeper.renewDue(); // not due yet: nothing asked
            assertThat(queue.leaseDue(10, LEASE)).isEmpty();
            clock.advance(Duration.ofSeconds(1));
            assertThat(keeper.renewDue()).isZero();
        }
        assertThat(queue.nextDue()).contains(clock.instant().plus(LEASE));
        assertThat(keeper.start(job)).isTrue();
        keeper.forget(job);
        assertThat(keeper.nextRenewal()).isEmpty();
    }

    @Test
    void aWaitingJobWhoseLeaseWasLostIsDroppedAndGivesBackWhatItStillHeld() throws Exception {
        QueueId id = put("a@example.org", "b@example.org");
        Lease a = queue.leaseDue(1, LEASE).get(0);
        Lease b = queue.leaseDue(1, LEASE).get(0);
        Job job = new Job("example.org", id, List.of(a, b));
        keeper.hold(job);
        // a's lease is lost meanwhile: given back and taken by another claim (another node)
        queue.releaseLeases(List.of(a));
        Lease other = queue.leaseDue(1, LEASE).get(0);
        assertThat(other.recipientId()).isEqualTo(a.recipientId());

        clock.advance(keeper.interval());
        assertThat(keeper.renewDue()).isEqualTo(1);
        assertThat(keeper.start(job)).as("never started: it would deliver a twice").isFalse();
        assertThat(queue.leaseDue(10, LEASE)).as("b given back, due now").extracting(Lease::address)
                .containsExactly("b@example.org");
    }

    @Test
    void aRunningJobWhoseLeaseIsLostGoesOnAndKeepsWhatStillHolds() throws Exception {
        QueueId gone = put("a@example.org");
        Job job = new Job("example.org", gone, queue.leaseDue(10, LEASE));
        keeper.hold(job);
        assertThat(keeper.start(job)).isTrue();
        queue.delete(gone);
        clock.advance(keeper.interval());
        assertThat(keeper.renewDue()).isZero();
        assertThat(keeper.held()).isEqualTo(1);
    }

    @Test
    void aRenewalThatFailsIsTriedAgainASecondLaterAndAJobNotRenewedInTimeDoesNotStart() throws Exception {
        QueueId id = put("a@example.org");
        Job job = new Job("example.org", id, queue.leaseDue(10, LEASE));
        keeper.hold(job);
        queue.failNext(FaultyMailQueue.Call.RENEW_LEASES, 2,
                () -> new QueueException(QueueException.Kind.UNAVAILABLE, "database down"));
        clock.advance(keeper.interval());
        keeper.renewDue();
        assertThat(keeper.nextRenewal()).contains(clock.instant().plus(LeaseKeeper.RETRY));
        clock.advance(keeper.interval()); // the renewals failed for a third of the lease: a third is left
        keeper.renewDue();
        clock.advance(Duration.ofSeconds(1));
        assertThat(keeper.start(job)).as("less than until the next renewal left").isFalse();

        keeper.renewDue();
        assertThat(queue.faulted(FaultyMailQueue.Call.RENEW_LEASES)).isEqualTo(2);
        assertThat(keeper.start(job)).isTrue();
        assertThat(keeper.nextRenewal()).contains(clock.instant().plus(keeper.interval()));
    }

    private QueueId put(String... recipients) throws Exception {
        QueueId id = QueueId.next(clock);
        byte[] body = "Subject: kept\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII);
        try (IncomingMessage m = queue.receive(id)) {
            m.body().write(body);
            m.commit(new Envelope(id, clock.instant(), "192.0.2.7", "client.example.net", "s@example.net", null,
                    null, body.length, Arrays.stream(recipients).map(EnvelopeRecipient::of).toList()));
        }
        return id;
    }
}
