package org.backstopmx.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.Optional;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.Lease;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueuedMessage;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.RetryPolicy;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.core.SmtpStage;
import org.backstopmx.testkit.MutableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The claim's compare-and-set, with two transactions interleaved by hand instead of hoping threads race. */
class LeaseRowsTest {
    @TempDir
    Path dir;
    final MutableClock clock = MutableClock.startingAt("2026-03-01T10:00:00Z");

    @Test
    void aClaimThatWaitedForAnotherOnTheSameRowGetsNothing() throws Exception {
        try (QueueDatabase db = QueueDatabase.open(dir.toAbsolutePath())) {
            db.read(c -> SchemaMigrator.migrate(c, clock));
            QueueId id = QueueId.next(clock);
            db.transaction(c -> {
                MessageRows.insert(c, TestMessages.envelope(id, clock, 10, "s@example.net", "a@example.org"), 10,
                        clock.instant());
                return null;
            });
            Instant now = clock.instant();
            Instant until = now.plus(Duration.ofMinutes(10));

            CompletableFuture<Void> firstClaimed = new CompletableFuture<>();
            CompletableFuture<Void> firstMayCommit = new CompletableFuture<>();
            CompletableFuture<List<Lease>> first = CompletableFuture.supplyAsync(() -> {
                try {
                    return db.transaction(c -> {
                        List<Lease> won = ClaimRows.claim(c, 10, now, until, "first");
                        firstClaimed.complete(null);
                        firstMayCommit.join();
                        return won;
                    });
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            firstClaimed.get();
            CompletableFuture<List<Lease>> second = CompletableFuture.supplyAsync(() -> {
                try {
                    return db.transaction(c -> ClaimRows.claim(c, 10, now, until, "second"));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            // the second claim read the row as due (the first is uncommitted) and now waits for its lock
            try {
                await().atMost(Duration.ofSeconds(5)).until(() -> blockedSessions(db) > 0);
            } finally {
                firstMayCommit.complete(null); // never leave the first transaction (and the database) hanging
            }

            assertThat(first.get()).extracting(Lease::owner).containsExactly("first");
            assertThat(second.get()).isEmpty();
        }
    }

    /**
     * Two recipients of one message reach a final state in overlapping transactions: without the lock on the message
     * row each would see the other still pending (its change uncommitted) and the message would never finish.
     */
    @Test
    void theLaterOfTwoOverlappingFinalOutcomesFinishesTheMessage() throws Exception {
        try (QueueDatabase db = QueueDatabase.open(dir.toAbsolutePath())) {
            db.read(c -> SchemaMigrator.migrate(c, clock));
            QueueId id = QueueId.next(clock);
            db.transaction(c -> {
                MessageRows.insert(c, TestMessages.envelope(id, clock, 10, "s@example.net", "a@example.org",
                        "b@example.org"), 10, clock.instant());
                return null;
            });
            Instant now = clock.instant();
            List<Lease> leases = db.transaction(c -> ClaimRows.claim(c, 10, now, now.plusSeconds(600), "me"));
            assertThat(leases).hasSize(2);
            RetryPolicy.Decision delivered = new RetryPolicy.Decision(RecipientState.DELIVERED, null, "delivered");
            DeliveryOutcome ok = new DeliveryOutcome.Delivered(SmtpReply.of(250, "2.0.0", "Ok"), "mx", SmtpStage.DOT);

            CompletableFuture<Void> firstRecorded = new CompletableFuture<>();
            CompletableFuture<Void> firstMayCommit = new CompletableFuture<>();
            CompletableFuture<LeaseRows.Recorded> first = CompletableFuture.supplyAsync(() -> {
                try {
                    return db.transaction(c -> {
                        LeaseRows.Recorded r = LeaseRows.recordOutcome(c, leases.get(0), ok, delivered, now);
                        firstRecorded.complete(null);
                        firstMayCommit.join();
                        return r;
                    });
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            firstRecorded.get();
            CompletableFuture<LeaseRows.Recorded> second = CompletableFuture.supplyAsync(() -> {
                try {
                    return db.transaction(c -> LeaseRows.recordOutcome(c, leases.get(1), ok, delivered, now));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                await().atMost(Duration.ofSeconds(5)).until(() -> blockedSessions(db) > 0);
            } finally {
                firstMayCommit.complete(null); // never leave the first transaction (and the database) hanging
            }

            assertThat(first.get()).isEqualTo(new LeaseRows.Recorded(true, Optional.empty()));
            assertThat(second.get().won()).isTrue();
            assertThat(second.get().finished()).isPresent();
            Optional<QueuedMessage> left = db.read(c -> MessageRows.find(c, id));
            assertThat(left).isEmpty();
        }
    }

    private static int blockedSessions(QueueDatabase db) throws Exception {
        return db.read(c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                    "SELECT COUNT(*) FROM INFORMATION_SCHEMA.SESSIONS WHERE BLOCKER_ID IS NOT NULL")) {
                rs.next();
                return rs.getInt(1);
            }
        });
    }
}
