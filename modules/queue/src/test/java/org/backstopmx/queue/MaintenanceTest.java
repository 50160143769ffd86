package org.backstopmx.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.Lease;
import org.backstopmx.core.Liveness;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueStats;
import org.backstopmx.core.QueuedMessage;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.RetryPolicy;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.core.SmtpStage;
import org.backstopmx.testkit.MutableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * When the maintenance looks at the file and what its compaction keeps, with the forwarder's deferrals while the primary
 * is down, on real H2 files with a moved clock.
 */
class MaintenanceTest {
    static final long MIN_SIZE = 1024 * 1024;
    private static final DeliveryOutcome DOWN = new DeliveryOutcome.Transient(
            SmtpReply.of(421, "4.4.1", "down"), "primary.example.org", SmtpStage.CONNECT, "refused");

    @TempDir
    Path dir;
    final MutableClock clock = MutableClock.startingAt("2026-01-05T00:00:00Z");

    @Test
    void aCompactionAfterDeferralPassesKeepsEveryRecipientsSchedule() throws Exception {
        List<QueuedMessage> before;
        QueueStats stats;
        try (H2MailQueue queue = open(MIN_SIZE)) {
            backlogDeferredOver(queue, 600, 4);
            before = queue.list(1000);
            stats = queue.stats();
            long compactedByItself = queue.compactions(); // the queue's own checks, every 2 000 rows written

            Compaction c = queue.compact();

            assertThat(c.sizeAfter()).isLessThanOrEqualTo(c.sizeBefore());
            assertThat(queue.compactions()).isGreaterThan(compactedByItself);
            assertThat(queue.list(1000)).isEqualTo(before);
            assertThat(queue.stats()).isEqualTo(stats);
        }
        try (H2MailQueue queue = open(MIN_SIZE)) {
            assertThat(queue.list(1000)).isEqualTo(before);
            assertThat(queue.leaseDue(1000, Duration.ofMinutes(5))).as("due again, as the last deferral said")
                    .hasSize(600).allMatch(l -> l.attempts() == 4);
        }
    }

    @Test
    void aBatchOfDeferralsCountsEveryRowTowardTheNextCheck() throws Exception {
        QueueDatabase db = QueueDatabase.open(dir);
        Maintenance maintenance = new Maintenance(new Compactor(db, 4.0, MIN_SIZE), clock, new Liveness(clock),
                Duration.ofHours(1));
        try {
            maintenance.start();
            maintenance.wrote(Maintenance.CHECK_EVERY_WRITES - 1);
            assertThat(maintenance.lastCheck()).isEmpty();
            clock.advance(Duration.ofMinutes(3));

            maintenance.wrote(1); // one batch call more: the count, not the calls, reaches the bound

            await().atMost(Duration.ofSeconds(20)).until(() -> maintenance.lastCheck().isPresent());
            assertThat(maintenance.lastCheck()).contains(clock.instant());
        } finally {
            maintenance.close();
            db.close();
        }
    }

    private H2MailQueue open(long minSize) throws Exception {
        return H2MailQueue.open(TestMessages.config(dir, minSize), TestMessages.MAX_MESSAGE_SIZE, clock);
    }

    /**
     * Queues {@code messages} (due at once) and then, {@code passes} times, claims every due recipient and records it
     * deferred by a batch per claim, as the forwarder does while the primary is down, moving the clock past the
     * backoff in between.
     */
    private void backlogDeferredOver(H2MailQueue queue, int messages, int passes) throws Exception {
        for (int i = 0; i < messages; i++) {
            TestMessages.put(queue, clock, 1024);
        }
        for (int p = 0; p < passes; p++) {
            List<Lease> leases;
            while (!(leases = queue.leaseDue(100, Duration.ofMinutes(5))).isEmpty()) {
                List<MailQueue.Attempt> batch = new ArrayList<>();
                for (Lease l : leases) {
                    batch.add(new MailQueue.Attempt(l, DOWN, new RetryPolicy.Decision(RecipientState.DEFERRED,
                            clock.instant().plus(Duration.ofMinutes(5)), "deferred: down")));
                }
                assertThat(queue.recordOutcomes(batch)).containsOnly(true);
            }
            clock.advance(Duration.ofMinutes(10));
        }
    }
}
