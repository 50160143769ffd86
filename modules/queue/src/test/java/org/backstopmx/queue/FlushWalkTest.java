package org.backstopmx.queue;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.backstopmx.core.Lease;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueuedRecipient;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.RetryPolicy;
import org.backstopmx.core.config.RetryConfig;
import org.junit.jupiter.api.Test;

/**
 * A flush as a mark walked by the claim, the claim that passes over full lanes one domain at a time, and the
 * per-domain counts kept in memory: what keeps their cost independent of the backlog. Real H2, a moved clock.
 */
class FlushWalkTest extends H2QueueFixture {
    static final Duration LEASE = DeliveryTest.LEASE;
    final RetryPolicy policy = new RetryPolicy(new RetryConfig(Duration.ofMinutes(5), Duration.ofMinutes(67)),
            Duration.ofDays(5), new java.util.SplittableRandom(42));

    @Test
    void aFlushRewritesNoRecipientAndItsWalkEndsOnceEveryoneWasTried() throws Exception {
        QueueId id = put("a@example.org", "b@example.org", "c@example.org");
        put("x@example.net");
        deferAll(queue.leaseDue(10, LEASE));
        List<Instant> scheduled = nextAttempts(id);
        clock.advance(Duration.ofSeconds(1));

        assertThat(queue.flush("example.org")).isEqualTo(3);
        assertThat(nextAttempts(id)).as("no row rewritten").isEqualTo(scheduled);
        assertThat(queue.nextDue()).contains(clock.instant());

        List<Lease> walked = queue.leaseDue(2, LEASE);
        assertThat(walked).hasSize(2).extracting(Lease::domain).containsOnly("example.org");
        List<Lease> rest = queue.leaseDue(10, LEASE);
        assertThat(rest).hasSize(1).extracting(Lease::domain).containsOnly("example.org");
        assertThat(List.of(walked.get(0), walked.get(1), rest.get(0))).extracting(Lease::address)
                .containsExactlyInAnyOrder("a@example.org", "b@example.org", "c@example.org");
        deferAll(walked);
        deferAll(rest);
        assertThat(queue.leaseDue(10, LEASE)).as("tried since the flush: not again").isEmpty();
        assertThat(queue.nextDue()).isPresent().get().matches(t -> t.isAfter(clock.instant()));
        assertThat(queue.flush("example.com")).isZero();
    }

    @Test
    void aFlushSurvivesARestartAndANewFlushStartsTheWalkAgain() throws Exception {
        put("a@example.org");
        put("b@example.org");
        deferAll(queue.leaseDue(10, LEASE));
        clock.advance(Duration.ofSeconds(1));
        assertThat(queue.flush("example.org")).isEqualTo(2);

        reopen();
        List<Lease> first = queue.leaseDue(1, LEASE);
        assertThat(first).hasSize(1).extracting(Lease::domain).containsOnly("example.org");
        deferAll(first);
        clock.advance(Duration.ofSeconds(1));
        assertThat(queue.flush("example.org")).as("a second flush while the first is walked").isEqualTo(2);
        assertThat(queue.leaseDue(10, LEASE)).extracting(Lease::address)
                .containsExactlyInAnyOrder("a@example.org", "b@example.org");
    }

    @Test
    void aClaimPassingOverAFullDomainAsksTheOthersAndLeavesItsFlushAlone() throws Exception {
        put("a@slow.example");
        put("b@slow.example");
        put("c@fast.example");
        put("d@other.example");
        List<Lease> leases = queue.leaseDue(10, LEASE, Set.of("slow.example"));
        assertThat(leases).extracting(Lease::address).containsExactly("c@fast.example", "d@other.example");
        deferAll(leases);
        clock.advance(Duration.ofSeconds(1));
        assertThat(queue.flush("fast.example")).isEqualTo(1);
        assertThat(queue.flush("slow.example")).isEqualTo(2);

        assertThat(queue.leaseDue(10, LEASE, Set.of("slow.example"))).extracting(Lease::address)
                .containsExactly("c@fast.example");
        assertThat(queue.leaseDue(10, LEASE)).extracting(Lease::address)
                .containsExactlyInAnyOrder("a@slow.example", "b@slow.example");
    }

    @Test
    void theDomainCountsKeptInMemoryEqualTheTablesAfterEveryKindOfChange() throws Exception {
        QueueId held = put("a@example.org", "b@example.net");
        QueueId deleted = put("c@example.org");
        put("d@example.org", "e@example.com");
        List<Lease> leases = queue.leaseDue(10, LEASE);
        for (Lease l : leases) {
            if (l.address().equals("e@example.com")) {
                record(l, DeliveryTest.OK);
            } else if (!l.queueId().equals(held)) {
                record(l, DeliveryTest.TRY_LATER);
            }
        }
        queue.releaseLeases(leases.stream().filter(l -> l.queueId().equals(held)).toList());
        assertThat(queue.hold(held)).contains(2);
        assertThat(queue.delete(deleted)).isTrue();
        H2MailQueue.DomainSnapshot kept = queue.domainSnapshot(clock.instant());
        assertThat(kept.recipients()).isEqualTo(Map.of(
                "example.org", Map.of(RecipientState.HELD, 1L, RecipientState.DEFERRED, 1L),
                "example.net", Map.of(RecipientState.HELD, 1L),
                "example.com", Map.of(RecipientState.DELIVERED, 1L)));
        assertThat(kept.oldestPending()).containsOnlyKeys("example.org", "example.net");
        assertThat(kept.expiring()).containsEntry("example.org", 1L).containsEntry("example.net", 0L);
        assertThat(queue.pendingDomains()).containsExactly("example.org");

        reopen();
        assertThat(queue.domainSnapshot(clock.instant())).isEqualTo(kept);
        assertThat(queue.release(held)).contains(2);
        assertThat(queue.pendingDomains()).containsExactly("example.net", "example.org");
    }

    /** DESIGN, "Bounded disk": the due-work query keeps its index alone; the others read the domain indexes. */
    @Test
    void theDueQueryKeepsItsIndexAndTheDomainQueriesReadTheDomainIndex() throws Exception {
        put("a@example.org");
        queue.close();
        try (Connection c = DriverManager.getConnection(QueueDatabase.url(dir.toAbsolutePath()), QueueDatabase.USER,
                "")) {
            assertThat(plan(c, ClaimRows.DUE, clock.instant(), 100)).contains("RECIPIENT_DUE").contains("index sorted")
                    .doesNotContain("RECIPIENT_DOMAIN");
            assertThat(plan(c, ClaimRows.DUE_IN_DOMAIN, "example.org", clock.instant(), 100))
                    .contains("RECIPIENT_DOMAIN:").contains("index sorted");
            assertThat(plan(c, ClaimRows.FLUSHED, "example.org", 0L, clock.instant(), 100))
                    .contains("RECIPIENT_DOMAIN_WALK:").contains("index sorted");
            try (Statement s = c.createStatement()) {
                s.execute("SHUTDOWN");
            }
        }
        open();
    }

    private static String plan(Connection c, String sql, Object... parameters) throws Exception {
        try (PreparedStatement p = c.prepareStatement("EXPLAIN " + sql)) {
            for (int i = 0; i < parameters.length; i++) {
                p.setObject(i + 1, parameters[i]);
            }
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    private QueueId put(String... recipients) throws Exception {
        return enqueue(recipients);
    }

    private void deferAll(List<Lease> leases) throws Exception {
        for (Lease l : leases) {
            assertThat(record(l, DeliveryTest.TRY_LATER)).isTrue();
        }
    }

    private boolean record(Lease lease, org.backstopmx.core.DeliveryOutcome outcome) throws Exception {
        return queue.recordOutcome(lease, outcome, policy.decide(lease.state(), outcome, lease.attempts(),
                lease.firstQueuedAt(), clock.instant()));
    }

    private List<Instant> nextAttempts(QueueId id) {
        return queue.find(id).orElseThrow().recipients().stream().map(QueuedRecipient::nextAttemptAt).toList();
    }
}
