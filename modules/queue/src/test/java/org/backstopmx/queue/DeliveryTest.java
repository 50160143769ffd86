package org.backstopmx.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.Lease;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueueStats;
import org.backstopmx.core.QueuedRecipient;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.RetryPolicy;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.core.SmtpStage;
import org.backstopmx.core.config.RetryConfig;
import org.junit.jupiter.api.Test;

/**
 * The delivering side of the H2 queue, beyond the {@code MailQueue} contract ({@code H2MailQueueContractTest}): its
 * spool files, counters, recovery and due index. Real H2, no sleeps.
 *
 * <p>Over 400 lines on purpose: the H2-only cases of the delivering side (group commit, spool files, counters) beside
 * one another; what both queues share is in the contract suite.
 */
class DeliveryTest extends H2QueueFixture {
    static final Duration LEASE = Duration.ofMinutes(10);
    static final DeliveryOutcome OK = new DeliveryOutcome.Delivered(SmtpReply.of(250, "2.0.0", "Ok: queued as 42"),
            "mail.example.org", SmtpStage.DOT);
    static final DeliveryOutcome TRY_LATER = new DeliveryOutcome.Transient(
            SmtpReply.of(451, "4.3.0", "try again later"), "mail.example.org", SmtpStage.RCPT);
    static final DeliveryOutcome REFUSED = new DeliveryOutcome.Transient(null, "mail.example.org",
            SmtpStage.CONNECT);
    static final DeliveryOutcome NO_SUCH_USER = new DeliveryOutcome.Permanent(
            SmtpReply.of(550, "5.1.1", "no such user"), "mail.example.org", SmtpStage.RCPT);

    final RetryPolicy policy = new RetryPolicy(new RetryConfig(Duration.ofMinutes(5), Duration.ofMinutes(67)),
            Duration.ofDays(5), new SplittableRandom(42));

    @Test
    void closingMakesTheLeasesStillRunningDueSoNothingWaitsForThemToRunOut() throws Exception {
        QueueId leased = TestMessages.put(queue, clock, 300);
        assertThat(queue.leaseDue(10, LEASE)).extracting(Lease::queueId).containsExactly(leased);
        clock.advance(Duration.ofSeconds(7));
        queue.close();

        // read as the stopped appliance left it: QueueReader runs no startup recovery
        try (QueueReader reader = QueueReader.open(dir)) {
            assertThat(reader.find(leased).orElseThrow().recipients())
                    .extracting(r -> r.nextAttemptAt()).containsExactly(clock.instant());
        }
    }

    @Test
    void aLeaseCarriesWhatTheForwarderNeeds() throws Exception {
        QueueId id = QueueId.next(clock);
        byte[] body = TestMessages.body(id, 700);
        Envelope envelope = TestMessages.dsnEnvelope(id, clock, body.length);
        try (IncomingMessage m = queue.receive(id)) {
            m.body().write(body);
            m.commit(envelope);
        }
        Instant received = clock.instant();
        clock.advance(Duration.ofSeconds(3));

        List<Lease> leases = queue.leaseDue(10, LEASE);

        assertThat(leases).hasSize(3);
        Lease alice = leases.get(0);
        assertThat(alice.queueId()).isEqualTo(id);
        assertThat(alice.address()).isEqualTo("alice@example.org");
        assertThat(alice.domain()).isEqualTo("example.org");
        assertThat(alice.dsnNotify()).isEqualTo("SUCCESS,DELAY");
        assertThat(alice.orcpt()).isEqualTo("rfc822;alice@example.org");
        assertThat(alice.attempts()).isZero();
        assertThat(alice.state()).isEqualTo(RecipientState.QUEUED);
        assertThat(alice.firstQueuedAt()).isEqualTo(received);
        assertThat(alice.leaseUntil()).isEqualTo(clock.instant().plus(LEASE));
        assertThat(leases).extracting(Lease::address).containsExactly("alice@example.org", "bob@Example.ORG",
                "carol@example.org");
        assertThat(leases).extracting(Lease::owner).containsOnly(alice.owner());
        // while leased, the recipients show their lease expiry as next attempt
        assertThat(queue.find(id).orElseThrow().recipients()).extracting(QueuedRecipient::nextAttemptAt)
                .containsOnly(alice.leaseUntil());
        assertThat(queue.leaseDue(10, LEASE)).isEmpty();
        assertThat(queue.leaseDue(0, LEASE)).isEmpty();
        assertThatThrownBy(() -> queue.leaseDue(1, Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void deliveredFinishesTheMessageAndDeletesItsBody() throws Exception {
        QueueId id = put("a@example.org", "b@example.org");
        Path bodyFile = dir.resolve("spool").resolve(Spool.subdirectory(id)).resolve(id.value());
        List<Lease> leases = queue.leaseDue(10, LEASE);
        assertThat(leases).hasSize(2);
        long size = queue.find(id).orElseThrow().size();

        assertThat(record(leases.get(0), OK)).isTrue();
        assertThat(queue.find(id).orElseThrow().recipients()).extracting(QueuedRecipient::state)
                .containsExactly(RecipientState.DELIVERED, RecipientState.QUEUED);
        assertThat(queue.stats()).isEqualTo(stats(1, size, Map.of(RecipientState.QUEUED, 1L,
                RecipientState.DELIVERED, 1L)));
        assertThat(bodyFile).exists();

        assertThat(record(leases.get(1), OK)).isTrue();
        assertThat(queue.find(id)).isEmpty();
        assertThat(queue.list(10)).isEmpty();
        assertThat(bodyFile).doesNotExist();
        assertThat(queue.stats()).isEqualTo(stats(0, 0, Map.of()));
        reopenAndCompareCounters();
        assertThat(queue.find(id)).isEmpty();
    }

    @Test
    void transientDefersPerPolicyAndComesDueAgainAtThatTime() throws Exception {
        QueueId id = put("a@example.org");
        Lease lease = queue.leaseDue(10, LEASE).get(0);
        clock.advance(Duration.ofSeconds(20)); // the attempt took a while
        RetryPolicy.Decision decision = policy.decide(lease.state(), TRY_LATER, lease.attempts(),
                lease.firstQueuedAt(), clock.instant());
        assertThat(decision.next()).isEqualTo(RecipientState.DEFERRED);

        assertThat(queue.recordOutcome(lease, TRY_LATER, decision)).isTrue();

        QueuedRecipient r = queue.find(id).orElseThrow().recipients().get(0);
        assertThat(r.state()).isEqualTo(RecipientState.DEFERRED);
        assertThat(r.attempts()).isEqualTo(1);
        assertThat(r.nextAttemptAt()).isEqualTo(decision.nextAttemptAt());
        assertThat(r.lastReply()).isEqualTo("451 4.3.0 try again later");
        assertThat(queue.stats()).isEqualTo(stats(1, queue.find(id).orElseThrow().size(),
                Map.of(RecipientState.DEFERRED, 1L)));

        clock.advance(LEASE); // past the lease, but not yet due
        clock.set(decision.nextAttemptAt().minusMillis(1));
        assertThat(queue.leaseDue(10, LEASE)).isEmpty();
        clock.set(decision.nextAttemptAt());
        List<Lease> again = queue.leaseDue(10, LEASE);
        assertThat(again).hasSize(1);
        assertThat(again.get(0).state()).isEqualTo(RecipientState.DEFERRED);
        assertThat(again.get(0).attempts()).isEqualTo(1);
        assertThat(again.get(0).owner()).isNotEqualTo(lease.owner());

        // a connection failure has no reply: the stage says what happened
        assertThat(record(again.get(0), REFUSED)).isTrue();
        QueuedRecipient twice = queue.find(id).orElseThrow().recipients().get(0);
        assertThat(twice.attempts()).isEqualTo(2);
        assertThat(twice.lastReply()).isEqualTo("no reply at CONNECT");
        reopenAndCompareCounters();

        queue.close();
        assertThat(attempts(id)).containsExactly(
                "mail.example.org|RCPT|TRANSIENT|451 4.3.0 try again later|2026-03-01T10:00:20Z",
                "mail.example.org|CONNECT|TRANSIENT|null|" + decision.nextAttemptAt());
    }

    @Test
    void historyKeepsTheLatestAttemptsOnly() throws Exception {
        QueueId id = put("a@example.org");
        for (int i = 0; i < LeaseRows.KEPT_ATTEMPTS + 3; i++) {
            clock.advance(Duration.ofHours(2)); // past the longest backoff (67 min)
            Lease lease = queue.leaseDue(10, LEASE).get(0);
            assertThat(lease.attempts()).isEqualTo(i);
            assertThat(record(lease, i % 2 == 0 ? TRY_LATER : REFUSED)).isTrue();
        }
        assertThat(queue.find(id).orElseThrow().recipients().get(0).attempts())
                .isEqualTo(LeaseRows.KEPT_ATTEMPTS + 3);
        queue.close();
        List<String> kept = attempts(id);
        assertThat(kept).hasSize(LeaseRows.KEPT_ATTEMPTS);
        // the newest five of eight, alternating from the fourth (a refusal at CONNECT) to the eighth (another)
        assertThat(kept).extracting(row -> row.split("\\|")[1])
                .containsExactly("CONNECT", "RCPT", "CONNECT", "RCPT", "CONNECT");
    }

    @Test
    void permanentFails() throws Exception {
        QueueId id = put("gone@example.org", "b@example.org");
        List<Lease> leases = queue.leaseDue(10, LEASE);

        assertThat(record(leases.get(0), NO_SUCH_USER)).isTrue();

        QueuedRecipient r = queue.find(id).orElseThrow().recipients().get(0);
        assertThat(r.state()).isEqualTo(RecipientState.FAILED);
        assertThat(r.nextAttemptAt()).isNull();
        assertThat(r.attempts()).isEqualTo(1);
        assertThat(r.lastReply()).isEqualTo("550 5.1.1 no such user");
        assertThat(queue.stats().recipients(RecipientState.FAILED)).isEqualTo(1);
        assertThat(queue.stats().recipients(RecipientState.QUEUED)).isEqualTo(1);
        clock.advance(Duration.ofDays(30));
        assertThat(queue.leaseDue(10, LEASE)).extracting(Lease::address).containsExactly("b@example.org");
        reopenAndCompareCounters();
    }

    @Test
    void theLastOfConcurrentOutcomesFinishesTheMessage() throws Exception {
        int messages = 40;
        for (int i = 0; i < messages; i++) {
            put("a" + i + "@example.org", "b" + i + "@example.org");
        }
        List<Lease> leases = queue.leaseDue(1000, LEASE);
        assertThat(leases).hasSize(2 * messages);
        List<Lease> firsts = leases.stream().filter(l -> l.address().startsWith("a")).toList();
        List<Lease> seconds = leases.stream().filter(l -> l.address().startsWith("b")).toList();
        CyclicBarrier start = new CyclicBarrier(2);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (List<Lease> half : List.of(firsts, seconds)) {
                results.add(pool.submit(() -> {
                    start.await();
                    int won = 0;
                    for (Lease l : half) {
                        won += record(l, l.address().startsWith("a") ? OK : NO_SUCH_USER) ? 1 : 0;
                    }
                    return won;
                }));
            }
            assertThat(results.get(0).get() + results.get(1).get()).isEqualTo(2 * messages);
        } finally {
            pool.shutdown(); // not shutdownNow: a thread interrupted inside H2 damages the database
        }
        // whichever outcome came last saw the other one and finished the message
        assertThat(queue.list(1000)).isEmpty();
        assertThat(queue.stats()).isEqualTo(stats(0, 0, Map.of()));
        try (var files = java.nio.file.Files.walk(dir.resolve("spool"))) {
            assertThat(files.filter(java.nio.file.Files::isRegularFile)).isEmpty();
        }
    }

    @Test
    void aCrashedHoldersLeaseRunsOutAndTheOldLeaseLosesTheCompareAndSet() throws Exception {
        QueueId id = put("a@example.org");
        Lease crashed = queue.leaseDue(10, LEASE).get(0);
        clock.advance(LEASE.minusMillis(1));
        assertThat(queue.leaseDue(10, LEASE)).isEmpty();
        clock.advance(Duration.ofMillis(1));
        Lease retaken = queue.leaseDue(10, LEASE).get(0);
        assertThat(retaken.recipientId()).isEqualTo(crashed.recipientId());

        QueueStats before = queue.stats();
        assertThat(record(crashed, OK)).isFalse();
        assertThat(queue.stats()).isEqualTo(before);
        assertThat(queue.find(id).orElseThrow().recipients().get(0).attempts()).isZero();

        assertThat(record(retaken, TRY_LATER)).isTrue();
        assertThat(record(retaken, TRY_LATER)).as("a lease is used once").isFalse();
        assertThat(queue.find(id).orElseThrow().recipients().get(0).attempts()).isEqualTo(1);
    }

    @Test
    void aLeaseOfThePreviousRunIsDueAtOnceAfterAReopen() throws Exception {
        put("a@example.org");
        Lease crashed = queue.leaseDue(10, LEASE).get(0);
        assertThat(queue.leaseDue(10, LEASE)).as("invisible while the lease runs").isEmpty();
        reopen();

        // the queue lock admits one process: nobody can still hold the lease, so no need to wait for its end
        List<Lease> again = queue.leaseDue(10, LEASE);
        assertThat(again).extracting(Lease::recipientId).containsExactly(crashed.recipientId());
        assertThat(record(crashed, OK)).isFalse();
        assertThat(record(again.get(0), OK)).isTrue();
        assertThat(queue.stats()).isEqualTo(stats(0, 0, Map.of()));
    }

    @Test
    void flushMakesADomainDueNowButLeavesRunningLeasesAlone() throws Exception {
        put("a@example.org");
        put("b@example.org");
        put("c@example.net");
        List<Lease> first = queue.leaseDue(10, LEASE);
        Lease running = first.stream().filter(l -> l.address().equals("b@example.org")).findFirst().orElseThrow();
        for (Lease l : first) {
            if (l != running) {
                assertThat(record(l, TRY_LATER)).isTrue();
            }
        }
        assertThat(queue.leaseDue(10, LEASE)).isEmpty();
        assertThat(queue.nextDue()).isPresent();

        assertThat(queue.flush("example.org")).as("pending for the domain, the leased one included").isEqualTo(2);
        List<Lease> flushed = queue.leaseDue(10, LEASE);
        assertThat(flushed).extracting(Lease::address).containsExactly("a@example.org");
        assertThat(flushed.get(0).lastAttemptAt()).isEqualTo(clock.instant());
        assertThat(queue.leaseDue(10, LEASE)).as("the flush's walk is done").isEmpty();
        assertThat(record(running, OK)).as("the running lease still holds").isTrue();
        assertThat(queue.flush("example.com")).isZero();
    }

    @Test
    void nextDueIsTheEarliestPendingTime() throws Exception {
        assertThat(queue.nextDue()).isEmpty();
        put("a@example.org");
        assertThat(queue.nextDue()).contains(clock.instant());
        Lease lease = queue.leaseDue(1, LEASE).get(0);
        assertThat(lease.lastAttemptAt()).isNull();
        assertThat(queue.nextDue()).as("a running lease is due at its end").contains(lease.leaseUntil());
        RetryPolicy.Decision d = policy.decide(lease.state(), TRY_LATER, 0, lease.firstQueuedAt(), clock.instant());
        assertThat(queue.recordOutcome(lease, TRY_LATER, d)).isTrue();
        assertThat(queue.nextDue()).contains(d.nextAttemptAt());
    }

    @Test
    void theArrivalListenerRunsAfterEachDurableCommit() throws Exception {
        java.util.concurrent.atomic.AtomicInteger arrivals = new java.util.concurrent.atomic.AtomicInteger();
        queue.onArrival(new MailQueue.ArrivalListener() {
            @Override
            public Instant firstAttempt(String domain, Instant now) {
                return domain.equals("example.net") ? now.plus(Duration.ofMinutes(5)) : now;
            }

            @Override
            public void arrived(Envelope envelope) {
                assertThat(queue.stats().messages()).as("runs after the message is queued")
                        .isEqualTo(arrivals.get() + 1);
                arrivals.incrementAndGet();
            }
        });
        put("a@example.org");
        put("b@example.org", "c@example.net");
        assertThat(arrivals).hasValue(2);
        assertThat(queue.leaseDue(10, LEASE)).extracting(Lease::address)
                .containsExactlyInAnyOrder("a@example.org", "b@example.org");
        clock.advance(Duration.ofMinutes(5));
        assertThat(queue.leaseDue(10, LEASE)).extracting(Lease::address).containsExactly("c@example.net");
    }

    @Test
    void expiredLeasesAreClearedAtStartupAndOnRequest() throws Exception {
        put("a@example.org");
        put("b@example.org");
        List<Lease> leases = queue.leaseDue(10, LEASE);
        clock.advance(LEASE);
        assertThat(queue.recoverExpiredLeases()).isEqualTo(2);
        assertThat(queue.recoverExpiredLeases()).isZero();
        assertThat(record(leases.get(0), OK)).as("a cleared lease is lost").isFalse();

        Lease next = queue.leaseDue(1, LEASE).get(0);
        reopen();
        assertThat(queue.recoverExpiredLeases()).as("startup released it").isZero();
        assertThat(record(next, OK)).isFalse();
        assertThat(queue.leaseDue(10, LEASE)).hasSize(2);
    }

    @Test
    void theDueQueryReadsTheNextAttemptIndexInOrder() throws Exception {
        put("a@example.org");
        queue.close();
        try (Connection c = connect()) {
            try (PreparedStatement p = c.prepareStatement("EXPLAIN " + ClaimRows.DUE)) {
                p.setObject(1, clock.instant());
                p.setInt(2, 100);
                try (ResultSet rs = p.executeQuery()) {
                    rs.next();
                    assertThat(rs.getString(1)).contains("RECIPIENT_DUE").contains("index sorted")
                            .doesNotContain("tableScan");
                }
            }
            shutdown(c);
        }
    }

    @Test
    void aClaimCanPassOverDomainsAndLeasesCanBeGivenBackWithoutAnAttempt() throws Exception {
        for (int i = 0; i < 5; i++) {
            put("a" + i + "@slow.example");
            clock.advance(Duration.ofMillis(1));
        }
        QueueId fast = put("b@fast.example");

        List<Lease> skipping = queue.leaseDue(3, LEASE, Set.of("slow.example"));
        assertThat(skipping).singleElement().satisfies(l -> assertThat(l.queueId()).isEqualTo(fast));

        List<Lease> slow = queue.leaseDue(10, LEASE);
        assertThat(slow).hasSize(5).allSatisfy(l -> assertThat(l.domain()).isEqualTo("slow.example"));
        assertThat(queue.releaseLeases(slow.subList(0, 2))).isEqualTo(2);
        assertThat(queue.releaseLeases(slow.subList(0, 2))).isZero(); // given back already
        List<Lease> again = queue.leaseDue(10, LEASE);
        assertThat(again).extracting(Lease::address).containsExactlyInAnyOrder(slow.get(0).address(),
                slow.get(1).address());
        assertThat(again).allSatisfy(l -> {
            assertThat(l.attempts()).isZero();
            assertThat(l.state()).isEqualTo(RecipientState.QUEUED);
        });
        assertThat(record(slow.get(0), OK)).isFalse(); // the lease given back no longer records
        assertThat(record(again.get(0), OK)).isTrue();
    }

    // --- helpers

    private QueueId put(String... recipients) throws Exception {
        return enqueue(recipients);
    }

    private boolean record(Lease lease, DeliveryOutcome outcome) throws Exception {
        RetryPolicy.Decision d = policy.decide(lease.state(), outcome, lease.attempts(), lease.firstQueuedAt(),
                clock.instant());
        return queue.recordOutcome(lease, outcome, d);
    }

    /** Reopens the queue: the counters loaded from the tables must equal those kept in memory. */
    private void reopenAndCompareCounters() throws Exception {
        QueueStats kept = queue.stats();
        reopen();
        assertThat(queue.stats()).isEqualTo(kept);
    }

    private List<String> attempts(QueueId id) throws Exception {
        List<String> rows = new ArrayList<>();
        try (Connection c = connect()) {
            try (PreparedStatement p = c.prepareStatement("SELECT host, stage, outcome, reply, attempted_at"
                    + " FROM attempt WHERE message_id = ? ORDER BY id")) {
                p.setString(1, id.value());
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        rows.add(rs.getString(1) + "|" + rs.getString(2) + "|" + rs.getString(3) + "|"
                                + rs.getString(4) + "|" + rs.getObject(5, Instant.class));
                    }
                }
            }
            shutdown(c);
        }
        return rows;
    }

    private Connection connect() throws Exception {
        return DriverManager.getConnection(QueueDatabase.url(dir.toAbsolutePath()), QueueDatabase.USER, "");
    }

    private static void shutdown(Connection c) throws Exception {
        try (Statement s = c.createStatement()) {
            s.execute("SHUTDOWN");
        }
    }

    static QueueStats stats(long messages, long bytes, Map<RecipientState, Long> recipients) {
        return new QueueStats(messages, bytes, recipients);
    }
}
