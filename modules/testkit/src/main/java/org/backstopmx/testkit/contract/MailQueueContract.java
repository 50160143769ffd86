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

    @Test
    void aRenewedLeaseOutlastsItsFirstEndAndStillRecords() throws Exception {
        QueueId id = put("a@example.org", "b@example.org");
        List<Lease> leases = queue.leaseDue(10, LEASE);
        clock.advance(LEASE.minusMinutes(1));

        List<Lease> renewed = queue.renewLeases(leases, LEASE);
        assertThat(renewed).extracting(Lease::recipientId)
                .containsExactly(leases.get(0).recipientId(), leases.get(1).recipientId());
        assertThat(renewed).extracting(Lease::leaseUntil).containsOnly(clock.instant().plus(LEASE));
        assertThat(renewed).extracting(Lease::owner).containsOnly(leases.get(0).owner());
        assertThat(queue.nextDue()).contains(clock.instant().plus(LEASE));

        clock.advance(Duration.ofMinutes(2)); // past the first end
        assertThat(queue.leaseDue(10, LEASE)).as("still leased").isEmpty();
        assertThat(queue.hold(id)).as("a running lease is left alone").contains(0);
        // the lease as claimed and as renewed both record: the holder need not swap them
        assertThat(record(leases.get(0), TRY_LATER)).isTrue();
        assertThat(record(renewed.get(1), OK)).isTrue();
        assertThat(queue.find(id).orElseThrow().recipients()).extracting(QueuedRecipient::state)
                .containsExactly(RecipientState.DEFERRED, RecipientState.DELIVERED);
        assertThat(queue.renewLeases(leases, LEASE)).as("a recorded lease is over").isEmpty();
        assertThat(queue.renewLeases(List.of(), LEASE)).isEmpty();
    }

    @Test
    void aRenewedLeaseGoesBackWithoutAnAttempt() throws Exception {
        QueueId id = put("a@example.org");
        Lease lease = queue.leaseDue(1, LEASE).get(0);
        clock.advance(Duration.ofMinutes(3));
        Lease renewed = queue.renewLeases(List.of(lease), LEASE).get(0);
        assertThat(queue.releaseLeases(List.of(renewed))).isEqualTo(1);
        assertThat(queue.leaseDue(1, LEASE)).extracting(Lease::queueId).containsExactly(id);
    }

    @Test
    void aLeaseThatRanOutIsNotRenewedAndOnceTakenAgainOnlyTheNewHolderRenews() throws Exception {
        put("a@example.org");
        Lease old = queue.leaseDue(1, LEASE).get(0);
        clock.advance(LEASE);
        assertThat(queue.renewLeases(List.of(old), LEASE)).as("ran out, though nobody took it yet").isEmpty();

        Lease taken = queue.leaseDue(1, LEASE).get(0);
        assertThat(taken.recipientId()).isEqualTo(old.recipientId());
        clock.advance(Duration.ofMinutes(1));
        assertThat(queue.renewLeases(List.of(old, taken), LEASE)).extracting(Lease::owner)
                .containsExactly(taken.owner());
        assertThat(record(old, OK)).isFalse();
        assertThat(record(taken, OK)).isTrue();
    }

    @Test
    void theLeasesOfADeletedMessageAreNotRenewed() throws Exception {
        QueueId gone = put("a@example.org");
        QueueId kept = put("b@example.org");
        List<Lease> leases = queue.leaseDue(10, LEASE);
        assertThat(queue.delete(gone)).isTrue();
        assertThat(queue.renewLeases(leases, LEASE)).extracting(Lease::queueId).containsExactly(kept);
    }

    @Test
    void aHeldRecipientLeasedForABounceIsRenewedWithoutComingDue() throws Exception {
        QueueId id = put("a@example.org");
        queue.hold(id);
        List<Lease> bounce = queue.leaseMessage(id, LEASE);
        clock.advance(LEASE.minusMinutes(1));
        assertThat(queue.renewLeases(bounce, LEASE)).hasSize(1);
        clock.advance(Duration.ofMinutes(2));
        assertThat(queue.nextDue()).isEmpty();
        assertThat(queue.leaseMessage(id, LEASE)).as("still under the renewed lease").isEmpty();
        assertThat(record(bounce.get(0), NO_SUCH_USER)).isTrue();
    }
}
