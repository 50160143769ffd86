package org.backstopmx.testkit.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.backstopmx.core.Lease;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueuedRecipient;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.RetryPolicy;
import org.junit.jupiter.api.Test;

/** The delivering side of the {@link MailQueue} contract: leases, outcomes, finished messages, flushes. */
public abstract class DeliveryContract extends ReceivingContract {

    @Test
    void aLeaseCarriesWhatTheForwarderNeedsAndHidesTheRecipient() throws Exception {
        QueueId id = put("alice@example.org", "bob@example.org");
        clock.advance(Duration.ofSeconds(3));

        List<Lease> leases = queue.leaseDue(10, LEASE);

        assertThat(leases).extracting(Lease::address).containsExactly("alice@example.org", "bob@example.org");
        Lease alice = leases.get(0);
        assertThat(alice.queueId()).isEqualTo(id);
        assertThat(alice.domain()).isEqualTo("example.org");
        assertThat(alice.attempts()).isZero();
        assertThat(alice.state()).isEqualTo(RecipientState.QUEUED);
        assertThat(alice.firstQueuedAt()).isEqualTo(clock.instant().minusSeconds(3));
        assertThat(alice.lastAttemptAt()).isNull();
        assertThat(alice.leaseUntil()).isEqualTo(clock.instant().plus(LEASE));
        assertThat(queue.find(id).orElseThrow().recipients()).extracting(QueuedRecipient::nextAttemptAt)
                .containsOnly(alice.leaseUntil());
        assertThat(queue.leaseDue(10, LEASE)).isEmpty();
        assertThat(queue.leaseDue(0, LEASE)).isEmpty();
        assertThatThrownBy(() -> queue.leaseDue(1, Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theLastDeliveryFinishesTheMessageAndItsBodyGoes() throws Exception {
        QueueId id = put("a@example.org", "b@example.org");
        List<Lease> leases = queue.leaseDue(10, LEASE);

        assertThat(record(leases.get(0), OK)).isTrue();
        assertThat(queue.find(id).orElseThrow().recipients()).extracting(QueuedRecipient::state)
                .containsExactly(RecipientState.DELIVERED, RecipientState.QUEUED);
        assertThat(queue.stats()).isEqualTo(stats(1, 300, Map.of(RecipientState.QUEUED, 1L,
                RecipientState.DELIVERED, 1L)));

        assertThat(record(leases.get(1), OK)).isTrue();
        assertThat(queue.find(id)).isEmpty();
        assertThat(queue.list(10)).isEmpty();
        assertThatThrownBy(() -> queue.openBody(id)).isInstanceOf(org.backstopmx.core.QueueException.class);
        assertThat(queue.stats()).isEqualTo(stats(0, 0, Map.of()));
        reopen();
        assertThat(queue.find(id)).isEmpty();
    }

    @Test
    void aTransientOutcomeDefersUntilThePolicySays() throws Exception {
        QueueId id = put("a@example.org");
        Lease lease = queue.leaseDue(10, LEASE).get(0);
        clock.advance(Duration.ofSeconds(20));
        RetryPolicy.Decision decision = decide(lease, TRY_LATER);

        assertThat(queue.recordOutcome(lease, TRY_LATER, decision)).isTrue();

        QueuedRecipient r = queue.find(id).orElseThrow().recipients().get(0);
        assertThat(r.state()).isEqualTo(RecipientState.DEFERRED);
        assertThat(r.attempts()).isEqualTo(1);
        assertThat(r.nextAttemptAt()).isEqualTo(decision.nextAttemptAt());
        assertThat(r.lastReply()).isEqualTo("451 4.3.0 try again later");
        clock.set(decision.nextAttemptAt().minusMillis(1));
        assertThat(queue.leaseDue(10, LEASE)).isEmpty();
        clock.set(decision.nextAttemptAt());
        Lease again = queue.leaseDue(10, LEASE).get(0);
        assertThat(again.state()).isEqualTo(RecipientState.DEFERRED);
        assertThat(again.attempts()).isEqualTo(1);
        assertThat(again.lastAttemptAt()).isEqualTo(lease.firstQueuedAt().plusSeconds(20));
        assertThat(queue.stats().recipients(RecipientState.DEFERRED)).isEqualTo(1);
    }

    @Test
    void aPermanentOutcomeFailsOneRecipientAndLeavesTheOther() throws Exception {
        QueueId id = put("gone@example.org", "b@example.org");
        List<Lease> leases = queue.leaseDue(10, LEASE);

        assertThat(record(leases.get(0), NO_SUCH_USER)).isTrue();

        QueuedRecipient r = queue.find(id).orElseThrow().recipients().get(0);
        assertThat(r.state()).isEqualTo(RecipientState.FAILED);
        assertThat(r.nextAttemptAt()).isNull();
        assertThat(r.lastReply()).isEqualTo("550 5.1.1 no such user");
        clock.advance(Duration.ofDays(30));
        assertThat(queue.leaseDue(10, LEASE)).extracting(Lease::address).containsExactly("b@example.org");
    }

    @Test
    void aTransientOutcomePastTheLifetimeExpiresTheLastRecipient() throws Exception {
        QueueId id = put("a@example.org");
        clock.advance(Duration.ofDays(5));
        assertThat(record(queue.leaseDue(1, LEASE).get(0), TRY_LATER)).isTrue();
        assertThat(queue.find(id)).isEmpty();
        assertThat(queue.stats()).isEqualTo(stats(0, 0, Map.of()));
    }

    @Test
    void anOutcomeTheStateMayNotTakeIsRefused() throws Exception {
        put("a@example.org");
        Lease lease = queue.leaseDue(1, LEASE).get(0);
        RetryPolicy.Decision back = new RetryPolicy.Decision(RecipientState.QUEUED, clock.instant(), "no");
        assertThatThrownBy(() -> queue.recordOutcome(lease, OK, back)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> queue.recordOutcomes(List.of(new MailQueue.Attempt(lease, OK, back))))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void dueWorkIsOldestFirstAndGroupedByDomain() throws Exception {
        QueueId first = put("x1@a.example");
        clock.advance(Duration.ofSeconds(1));
        QueueId second = put("y1@b.example");
        clock.advance(Duration.ofSeconds(1));
        QueueId third = put("x2@a.example", "y2@b.example", "z@c.example");
        clock.advance(Duration.ofSeconds(1));

        assertThat(queue.leaseDue(2, LEASE)).extracting(Lease::queueId).containsExactly(first, second);
        List<Lease> rest = queue.leaseDue(10, LEASE);
        assertThat(rest).extracting(Lease::address).containsExactly("x2@a.example", "y2@b.example", "z@c.example");
        assertThat(rest).extracting(Lease::queueId).containsOnly(third);

        clock.advance(LEASE);
        assertThat(queue.leaseDue(10, LEASE)).extracting(Lease::address).containsExactly("x1@a.example",
                "x2@a.example", "y1@b.example", "y2@b.example", "z@c.example");
    }

    @Test
    void concurrentLeasersNeverGetTheSameRecipient() throws Exception {
        for (int i = 0; i < 60; i++) {
            put("r" + i + "@d" + (i % 7) + ".example", "s" + i + "@d" + (i % 5) + ".example");
        }
        int threads = 4;
        CyclicBarrier start = new CyclicBarrier(threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<List<Lease>>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Callable<List<Lease>> claimer = () -> {
                    start.await(10, TimeUnit.SECONDS);
                    List<Lease> mine = new ArrayList<>();
                    // a claim that lost every race comes back empty with work left: look again before giving up
                    for (int empty = 0; empty < 3; ) {
                        List<Lease> batch = queue.leaseDue(7, LEASE);
                        empty = batch.isEmpty() ? empty + 1 : 0;
                        mine.addAll(batch);
                    }
                    return mine;
                };
                results.add(pool.submit(claimer));
            }
            Set<Long> seen = new HashSet<>();
            int total = 0;
            for (Future<List<Lease>> f : results) {
                for (Lease l : f.get(60, TimeUnit.SECONDS)) {
                    assertThat(seen.add(l.recipientId())).as("leased twice: %s", l).isTrue();
                    total++;
                }
            }
            assertThat(total).isEqualTo(120);
        } finally {
            pool.shutdown(); // not shutdownNow: an interrupt inside the H2 queue's database damages it
        }
        assertThat(queue.leaseDue(1000, LEASE)).isEmpty();
    }

    @Test
    void theLastOfConcurrentOutcomesFinishesTheMessage() throws Exception {
        for (int i = 0; i < 30; i++) {
            put("a" + i + "@example.org", "b" + i + "@example.org");
        }
        List<Lease> leases = queue.leaseDue(1000, LEASE);
        assertThat(leases).hasSize(60);
        CyclicBarrier start = new CyclicBarrier(2);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Integer>> won = new ArrayList<>();
            for (String half : List.of("a", "b")) {
                won.add(pool.submit(() -> {
                    start.await(10, TimeUnit.SECONDS);
                    int n = 0;
                    for (Lease l : leases) {
                        if (l.address().startsWith(half)) {
                            n += record(l, half.equals("a") ? OK : NO_SUCH_USER) ? 1 : 0;
                        }
                    }
                    return n;
                }));
            }
            assertThat(won.get(0).get(60, TimeUnit.SECONDS) + won.get(1).get(60, TimeUnit.SECONDS)).isEqualTo(60);
        } finally {
            pool.shutdown();
        }
        // whichever outcome came last saw the other one and finished the message
        assertThat(queue.list(1000)).isEmpty();
        assertThat(queue.stats()).isEqualTo(stats(0, 0, Map.of()));
    }

    @Test
    void aLeaseThatRanOutIsTakenAgainAndTheOldHolderLosesTheCompareAndSet() throws Exception {
        QueueId id = put("a@example.org");
        Lease crashed = queue.leaseDue(1, LEASE).get(0);
        clock.advance(LEASE);
        Lease taken = queue.leaseDue(1, LEASE).get(0);
        assertThat(taken.recipientId()).isEqualTo(crashed.recipientId());

        assertThat(record(crashed, OK)).isFalse();
        assertThat(queue.find(id)).isPresent();
        assertThat(queue.releaseLeases(List.of(crashed))).isZero();
        assertThat(record(taken, TRY_LATER)).isTrue();
        assertThat(record(taken, TRY_LATER)).as("a lease is used once").isFalse();
        assertThat(queue.find(id).orElseThrow().recipients().get(0).attempts()).isEqualTo(1);
    }

    @Test
    void expiredLeasesAreClearedOnRequestWithoutMovingTheSchedule() throws Exception {
        put("a@example.org");
        put("b@example.org");
        List<Lease> leases = queue.leaseDue(2, LEASE);
        clock.advance(LEASE.plusSeconds(1));
        assertThat(queue.recoverExpiredLeases()).isEqualTo(2);
        assertThat(queue.recoverExpiredLeases()).isZero();
        assertThat(record(leases.get(0), OK)).isFalse();
        assertThat(queue.leaseDue(10, LEASE)).hasSize(2);
    }

    @Test
    void aLeaseRunningAtACloseIsDueAtOnceAfterTheRestart() throws Exception {
        QueueId id = put("a@example.org");
        queue.leaseDue(1, LEASE);
        clock.advance(Duration.ofSeconds(7));
        reopen();
        assertThat(queue.find(id).orElseThrow().recipients()).extracting(QueuedRecipient::nextAttemptAt)
                .containsExactly(clock.instant());
        assertThat(queue.leaseDue(1, LEASE)).extracting(Lease::queueId).containsExactly(id);
    }

    @Test
    void aFlushMakesADomainDueNowButLeavesRunningLeasesAlone() throws Exception {
        put("a@slow.example");
        put("b@slow.example");
        put("c@other.example");
        List<Lease> leases = queue.leaseDue(10, LEASE);
        Lease deferred = leases.stream().filter(l -> l.address().startsWith("a")).findFirst().orElseThrow();
        assertThat(record(deferred, TRY_LATER)).isTrue();

        assertThat(queue.flush("slow.example")).isEqualTo(2);
        assertThat(queue.flush("nothing.example")).isZero();
        assertThat(queue.leaseDue(10, LEASE)).extracting(Lease::address).containsExactly("a@slow.example");
        assertThat(queue.pendingDomains()).containsExactly("other.example", "slow.example");
        assertThat(queue.nextDue()).contains(clock.instant().plus(LEASE));
    }

    @Test
    void aClaimPassesOverSkippedDomainsAndLeasesGoBackWithoutAnAttempt() throws Exception {
        put("a@busy.example");
        put("b@free.example");
        List<Lease> leases = queue.leaseDue(10, LEASE, Set.of("busy.example"));
        assertThat(leases).extracting(Lease::address).containsExactly("b@free.example");

        clock.advance(Duration.ofSeconds(5));
        assertThat(queue.releaseLeases(leases)).isEqualTo(1);
        assertThat(queue.releaseLeases(leases)).isZero();
        Lease again = queue.leaseDue(10, LEASE, Set.of("busy.example")).get(0);
        assertThat(again.attempts()).isZero();
        assertThat(again.state()).isEqualTo(RecipientState.QUEUED);
        assertThat(queue.leaseDue(10, LEASE)).extracting(Lease::address).containsExactly("a@busy.example");
    }

    @Test
    void severalOutcomesAreRecordedTogetherAndALostLeaseIsSaidSo() throws Exception {
        QueueId one = put("a@example.org", "b@example.org");
        QueueId two = put("c@example.org");
        List<Lease> leases = queue.leaseDue(10, LEASE);
        // a lease is its claim's token: the same recipient and end under another claim's token does not hold
        Lease stale = new Lease(leases.get(2).recipientId(), two, "c@example.org", "example.org", null, null, 0,
                RecipientState.QUEUED, leases.get(2).firstQueuedAt(), null, leases.get(2).leaseUntil(),
                "another-claim");

        List<Boolean> won = queue.recordOutcomes(List.of(
                new MailQueue.Attempt(leases.get(1), OK, decide(leases.get(1), OK)),
                new MailQueue.Attempt(stale, OK, decide(stale, OK)),
                new MailQueue.Attempt(leases.get(0), TRY_LATER, decide(leases.get(0), TRY_LATER))));

        assertThat(won).containsExactly(true, false, true);
        assertThat(queue.find(one).orElseThrow().recipients()).extracting(QueuedRecipient::state)
                .containsExactly(RecipientState.DEFERRED, RecipientState.DELIVERED);
        assertThat(queue.find(two)).isPresent();
        assertThat(queue.recordOutcomes(List.of())).isEmpty();
    }
}
