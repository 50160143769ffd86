package org.backstopmx.queue.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.Lease;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.RetryPolicy;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.core.SmtpStage;
import org.backstopmx.testkit.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Two nodes on one database: a node that dies strands nothing, and two draining nodes deliver everything once. */
class SeveralNodesTest {
    private static final Duration LEASE = Duration.ofMinutes(5);
    private static final DeliveryOutcome OK = new DeliveryOutcome.Delivered(SmtpReply.of(250, "2.0.0", "Ok"),
            "mail.example.org", SmtpStage.DOT);
    private static final RetryPolicy.Decision DELIVERED = new RetryPolicy.Decision(RecipientState.DELIVERED, null,
            "delivered");

    private final MutableClock clock = MutableClock.startingAt("2026-03-01T10:00:00Z");
    private TestDatabase database;
    private PostgresMailQueue a;
    private PostgresMailQueue b;

    @BeforeEach
    void open() throws Exception {
        database = TestDatabase.create();
        a = database.open("node-a", clock);
        b = database.open("node-b", clock);
    }

    @AfterEach
    void close() {
        a.close();
        b.close();
    }

    @Test
    void theRecipientsOfANodeThatDiedMidDeliveryAreTakenByTheOtherAfterTheLease() throws Exception {
        List<QueueId> ids = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ids.add(put(i % 2 == 0 ? a : b, "r" + i + "@example.org", "s" + i + "@example.net"));
        }
        List<Lease> dying = a.leaseDue(100, LEASE);
        assertThat(dying).hasSize(20).extracting(Lease::owner).containsOnly(dying.get(0).owner()); // one claim
        // node-a dies here: it never records an outcome nor gives its leases back

        clock.advance(LEASE.minusSeconds(1));
        assertThat(b.leaseDue(100, LEASE)).isEmpty();
        assertThat(b.nextDue()).contains(dying.get(0).leaseUntil());
        clock.advance(Duration.ofSeconds(1));
        List<Lease> taken = b.leaseDue(100, LEASE);
        assertThat(taken).hasSize(20).extracting(Lease::owner).containsOnly(taken.get(0).owner())
                .doesNotContain(dying.get(0).owner());
        assertThat(taken).extracting(Lease::recipientId)
                .containsExactlyInAnyOrderElementsOf(dying.stream().map(Lease::recipientId).toList());
        for (Lease l : taken) {
            assertThat(b.recordOutcome(l, OK, DELIVERED)).isTrue();
        }

        assertThat(b.list(100)).isEmpty();
        assertThat(b.stats().messages()).isZero();
        // had node-a only stalled, its late outcome would find the lease lost
        assertThat(a.recordOutcome(dying.get(0), OK, DELIVERED)).isFalse();
    }

    @Test
    void aNodeThatRenewsItsLeasesKeepsThemPastTheirFirstEndAndTheOtherTakesThemOnlyWhenItStops() throws Exception {
        QueueId id = put(a, "x@example.org", "y@example.org");
        List<Lease> held = a.leaseDue(10, LEASE);
        Instant firstEnd = held.get(0).leaseUntil();
        // node-a renews every third of the lease, as its forwarder does, for three lease times
        List<Lease> renewed = held;
        for (int i = 0; i < 9; i++) {
            clock.advance(LEASE.dividedBy(3));
            renewed = a.renewLeases(renewed, LEASE);
            assertThat(renewed).hasSize(2);
            assertThat(b.leaseDue(10, LEASE)).as("node-b at " + clock.instant()).isEmpty();
        }
        assertThat(clock.instant()).isAfter(firstEnd.plus(LEASE));
        assertThat(b.nextDue()).contains(renewed.get(0).leaseUntil());
        assertThat(b.hold(id)).as("being tried on node-a: left alone").contains(0);
        assertThat(a.recordOutcome(held.get(0), OK, DELIVERED)).isTrue();

        // node-a stops renewing (it died): node-b takes what is left at the renewed end, not before
        clock.advance(LEASE.minusSeconds(1));
        assertThat(b.leaseDue(10, LEASE)).isEmpty();
        clock.advance(Duration.ofSeconds(1));
        List<Lease> taken = b.leaseDue(10, LEASE);
        assertThat(taken).extracting(Lease::address).containsExactly("y@example.org");
        assertThat(a.renewLeases(renewed, LEASE)).as("node-a's lease ran out and was taken").isEmpty();
        assertThat(a.recordOutcome(renewed.get(1), OK, DELIVERED)).isFalse();
        assertThat(b.recordOutcome(taken.get(0), OK, DELIVERED)).isTrue();
        assertThat(b.find(id)).isEmpty();
    }

    @Test
    void aNodeSeesAndLeasesWhatTheOtherReceivedButNeverWhatItHolds() throws Exception {
        QueueId id = put(a, "x@example.org");
        assertThat(b.find(id)).isPresent();
        assertThat(b.stats().messages()).isEqualTo(1);
        Lease held = b.leaseDue(10, LEASE).get(0);
        assertThat(a.leaseDue(10, LEASE)).isEmpty();
        assertThat(a.hold(id)).contains(0); // being tried on node-b: left alone
        a.close(); // a clean stop gives back node-a's leases only
        assertThat(b.recordOutcome(held, OK, DELIVERED)).isTrue();
        assertThat(b.find(id)).isEmpty();
    }

    @Test
    void aNodeThatRestartsAfterACrashGetsItsOwnLeasesBackAtOnceButNeverTheOthers() throws Exception {
        put(a, "x@example.org");
        put(a, "y@example.org");
        Lease mine = a.leaseDue(1, LEASE).get(0);
        Lease theirs = b.leaseDue(1, LEASE).get(0);
        // node-a crashes (its queue is never closed) and starts again under the same node id
        try (PostgresMailQueue restarted = database.open("node-a", clock)) {
            List<Lease> again = restarted.leaseDue(10, LEASE);
            assertThat(again).extracting(Lease::recipientId).containsExactly(mine.recipientId());
            assertThat(b.recordOutcome(theirs, OK, DELIVERED)).isTrue();
            assertThat(restarted.recordOutcome(again.get(0), OK, DELIVERED)).isTrue();
        }
        assertThat(b.list(10)).isEmpty();
    }

    @Test
    void twoNodesDrainingOneBacklogDeliverEveryRecipientExactlyOnce() throws Exception {
        int recipients = 0;
        for (int i = 0; i < 200; i++) {
            String[] rcpts = new String[1 + i % 3];
            for (int r = 0; r < rcpts.length; r++) {
                rcpts[r] = "u" + i + "." + r + "@d" + (i % 4) + ".example";
            }
            put(i % 2 == 0 ? a : b, rcpts);
            recipients += rcpts.length;
        }
        Map<Long, AtomicInteger> deliveries = new ConcurrentHashMap<>();
        Map<String, AtomicInteger> byNode = new ConcurrentHashMap<>();
        int workers = 4; // two per node
        CyclicBarrier start = new CyclicBarrier(workers);
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                PostgresMailQueue node = w % 2 == 0 ? a : b;
                done.add(pool.submit(() -> {
                    start.await(10, TimeUnit.SECONDS);
                    for (List<Lease> batch; !(batch = node.leaseDue(10, LEASE)).isEmpty(); ) {
                        List<MailQueue.Attempt> attempts = new ArrayList<>();
                        for (Lease l : batch) {
                            attempts.add(new MailQueue.Attempt(l, OK, DELIVERED));
                        }
                        List<Boolean> won = node.recordOutcomes(attempts);
                        for (int i = 0; i < batch.size(); i++) {
                            assertThat(won.get(i)).isTrue();
                            deliveries.computeIfAbsent(batch.get(i).recipientId(), k -> new AtomicInteger())
                                    .incrementAndGet();
                            byNode.computeIfAbsent(node.nodeId(), k -> new AtomicInteger()).incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(deliveries).hasSize(recipients);
        assertThat(deliveries.values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
        assertThat(byNode.keySet()).containsExactlyInAnyOrder("node-a", "node-b");
        assertThat(a.stats().messages()).isZero();
        assertThat(b.list(10)).isEmpty();
    }

    private QueueId put(MailQueue node, String... recipients) throws IOException, QueueException {
        QueueId id = QueueId.next(clock);
        byte[] body = ("Subject: " + id + "\r\n\r\nbody\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        try (IncomingMessage m = node.receive(id)) {
            m.body().write(body);
            m.commit(new Envelope(id, clock.instant(), "192.0.2.9", "client.example", "s@example.net", null, null,
                    body.length, java.util.Arrays.stream(recipients).map(EnvelopeRecipient::of).toList()));
        }
        return id;
    }
}
