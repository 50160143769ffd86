package org.backstopmx.queue;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.Lease;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueueStats;
import org.backstopmx.core.QueuedRecipient;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.RetryPolicy;
import org.backstopmx.core.SmtpStage;
import org.backstopmx.core.config.RetryConfig;
import org.junit.jupiter.api.Test;

/** {@code queue hold|release|bounce} and the flush of every domain, on a real H2 queue. */
class AdminOperationsTest extends H2QueueFixture {
    static final Duration LEASE = Duration.ofMinutes(10);

    final RetryPolicy policy = new RetryPolicy(new RetryConfig(Duration.ofMinutes(5), Duration.ofMinutes(67)),
            Duration.ofDays(5), new SplittableRandom(7));

    @Test
    void aHeldMessageIsNotDueUntilReleasedAndBothSurviveARestart() throws Exception {
        QueueId id = put("a@example.org", "b@example.net");

        assertThat(queue.hold(id)).contains(2);
        assertThat(states(id)).containsOnly(RecipientState.HELD);
        assertThat(queue.leaseDue(10, LEASE)).isEmpty();
        assertThat(queue.nextDue()).isEmpty();
        assertThat(queue.flush("example.org")).isZero(); // a flush does not release held mail
        assertThat(queue.pendingDomains()).isEmpty();
        assertThat(queue.stats().recipients(RecipientState.HELD)).isEqualTo(2);
        assertThat(queue.hold(id)).contains(0);

        reopen();
        assertThat(states(id)).containsOnly(RecipientState.HELD);
        assertThat(queue.stats().recipients(RecipientState.HELD)).isEqualTo(2);
        clock.advance(Duration.ofDays(30));
        assertThat(queue.leaseDue(10, LEASE)).isEmpty();

        assertThat(queue.release(id)).contains(2);
        assertThat(states(id)).containsOnly(RecipientState.QUEUED);
        assertThat(queue.stats().recipients(RecipientState.QUEUED)).isEqualTo(2);
        assertThat(queue.pendingDomains()).containsExactly("example.net", "example.org");
        assertThat(queue.leaseDue(10, LEASE)).extracting(Lease::address)
                .containsExactlyInAnyOrder("a@example.org", "b@example.net");
        assertThat(queue.release(id)).contains(0);
    }

    @Test
    void aRecipientBeingTriedIsNotHeldAndItsOutcomeStillCounts() throws Exception {
        QueueId id = put("a@example.org");
        QueueId other = put("b@example.org");
        List<Lease> leases = queue.leaseDue(1, LEASE);
        assertThat(leases).singleElement().extracting(Lease::queueId).isEqualTo(id);

        assertThat(queue.hold(id)).contains(0);
        assertThat(queue.hold(other)).contains(1);

        DeliveryOutcome ok = new DeliveryOutcome.Delivered(null, "mx", SmtpStage.DOT);
        assertThat(queue.recordOutcome(leases.get(0), ok,
                policy.decide(RecipientState.QUEUED, ok, 0, leases.get(0).firstQueuedAt(), clock.instant()))).isTrue();
        assertThat(queue.find(id)).isEmpty();
    }

    @Test
    void leasingAMessageTakesHeldAndDueRecipientsButNotThoseBeingTried() throws Exception {
        QueueId id = put("a@example.org", "b@example.org", "c@example.net");
        Lease running = queue.leaseDue(1, LEASE).get(0); // a@example.org
        clock.advance(Duration.ofSeconds(1));
        List<Lease> claimed = queue.leaseMessage(id, LEASE);
        assertThat(claimed).extracting(Lease::address).containsExactly("b@example.org", "c@example.net");
        assertThat(queue.leaseMessage(id, LEASE)).isEmpty(); // all are leased now
        assertThat(running.address()).isEqualTo("a@example.org");

        // the claimed ones fail under their lease, the running one is delivered: the message is finished
        DeliveryOutcome gone = new DeliveryOutcome.Permanent(null, null, SmtpStage.CONNECT,
                "returned to the sender by the administrator");
        for (Lease l : claimed) {
            assertThat(queue.recordOutcome(l, gone, policy.decide(l.state(), gone, l.attempts(), l.firstQueuedAt(),
                    clock.instant()))).isTrue();
        }
        DeliveryOutcome ok = new DeliveryOutcome.Delivered(null, "mx", SmtpStage.DOT);
        assertThat(queue.recordOutcome(running, ok, policy.decide(running.state(), ok, 0, running.firstQueuedAt(),
                clock.instant()))).isTrue();
        assertThat(queue.find(id)).isEmpty();
        assertThat(queue.stats()).isEqualTo(new QueueStats(0, 0, java.util.Map.of()));
    }

    @Test
    void aHeldRecipientCanBeLeasedAndFailedButIsNeverDueMeanwhile() throws Exception {
        QueueId id = put("a@example.org");
        queue.hold(id);
        List<Lease> claimed = queue.leaseMessage(id, LEASE);
        assertThat(claimed).singleElement().extracting(Lease::state).isEqualTo(RecipientState.HELD);
        clock.advance(LEASE.multipliedBy(2));
        assertThat(queue.leaseDue(10, LEASE)).isEmpty();
        assertThat(queue.nextDue()).isEmpty();
        DeliveryOutcome gone = new DeliveryOutcome.Permanent(null, null, SmtpStage.CONNECT, "returned");
        Lease l = claimed.get(0);
        // the lease ran out, but nobody leased the recipient again: the outcome still counts
        assertThat(queue.recordOutcome(l, gone, policy.decide(l.state(), gone, 0, l.firstQueuedAt(), clock.instant())))
                .isTrue();
        assertThat(queue.find(id)).isEmpty();
    }

    private QueueId put(String... recipients) throws Exception {
        QueueId id = enqueue(recipients);
        clock.advance(Duration.ofMillis(1));
        return id;
    }

    private List<RecipientState> states(QueueId id) {
        return queue.find(id).orElseThrow().recipients().stream().map(QueuedRecipient::state).toList();
    }
}
