package org.backstopmx.testkit.contract;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.backstopmx.core.Lease;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueuedRecipient;
import org.backstopmx.core.RecipientState;
import org.junit.jupiter.api.Test;

/**
 * The whole {@link MailQueue} contract, for every implementation: extend this class, say how to open an empty queue
 * and how to open it again, and every test of receiving ({@link ReceivingContract}), delivering
 * ({@link DeliveryContract}) and the admin's changes (here) runs against it. Only what the interface promises is
 * tested here; what an implementation adds (spool files, a shared database) is tested beside it.
 */
public abstract class MailQueueContract extends DeliveryContract {

    @Test
    void aHeldMessageIsNotDueUntilReleasedAndBothSurviveARestart() throws Exception {
        QueueId id = put("a@example.org", "b@example.org");
        assertThat(queue.hold(id)).contains(2);
        assertThat(queue.hold(id)).contains(0);
        clock.advance(Duration.ofDays(1));
        assertThat(queue.leaseDue(10, LEASE)).isEmpty();
        assertThat(queue.nextDue()).isEmpty();
        assertThat(queue.stats().recipients(RecipientState.HELD)).isEqualTo(2);
        reopen();
        assertThat(queue.find(id).orElseThrow().recipients()).extracting(QueuedRecipient::state)
                .containsOnly(RecipientState.HELD);

        assertThat(queue.release(id)).contains(2);
        reopen();
        assertThat(queue.find(id).orElseThrow().recipients()).extracting(QueuedRecipient::nextAttemptAt)
                .containsOnly(clock.instant());
        assertThat(queue.leaseDue(10, LEASE)).hasSize(2);
    }

    @Test
    void aRecipientBeingTriedIsNotHeldAndItsOutcomeStillCounts() throws Exception {
        QueueId id = put("a@example.org");
        Lease running = queue.leaseDue(1, LEASE).get(0);
        assertThat(queue.hold(id)).contains(0);
        assertThat(record(running, OK)).isTrue();
        assertThat(queue.find(id)).isEmpty();
    }

    @Test
    void unknownMessagesAreReportedAsMissing() throws Exception {
        QueueId unknown = QueueId.next(clock);
        assertThat(queue.hold(unknown)).isEmpty();
        assertThat(queue.release(unknown)).isEmpty();
        assertThat(queue.leaseMessage(unknown, LEASE)).isEmpty();
        assertThat(queue.find(unknown)).isEmpty();
        assertThat(queue.delete(unknown)).isFalse();
    }

    @Test
    void leasingAMessageTakesHeldAndDueRecipientsButNotThoseBeingTried() throws Exception {
        QueueId id = put("a@one.example", "b@two.example", "c@three.example");
        List<Lease> first = queue.leaseDue(1, LEASE);
        assertThat(first).extracting(Lease::address).containsExactly("a@one.example");
        queue.hold(id);

        List<Lease> bounce = queue.leaseMessage(id, LEASE);
        assertThat(bounce).extracting(Lease::address).containsExactly("b@two.example", "c@three.example");
        assertThat(bounce).extracting(Lease::state).containsOnly(RecipientState.HELD);
        assertThat(queue.leaseMessage(id, LEASE)).isEmpty();

        for (Lease l : bounce) {
            assertThat(record(l, NO_SUCH_USER)).isTrue();
        }
        assertThat(queue.find(id).orElseThrow().recipients()).extracting(QueuedRecipient::state)
                .containsExactly(RecipientState.QUEUED, RecipientState.FAILED, RecipientState.FAILED);
        clock.advance(LEASE);
        assertThat(queue.leaseDue(10, LEASE)).extracting(Lease::address).containsExactly("a@one.example");
    }

    @Test
    void aHeldRecipientLeasedForABounceIsNeverDueMeanwhile() throws Exception {
        QueueId id = put("a@example.org");
        queue.hold(id);
        List<Lease> leased = queue.leaseMessage(id, LEASE);
        assertThat(leased).hasSize(1);
        clock.advance(LEASE.multipliedBy(3));
        assertThat(queue.leaseDue(10, LEASE)).isEmpty();
        assertThat(queue.nextDue()).isEmpty();
        // the lease ran out, but nobody leased the recipient again: the outcome still counts
        assertThat(record(leased.get(0), NO_SUCH_USER)).isTrue();
        assertThat(queue.find(id)).isEmpty();
    }
}
