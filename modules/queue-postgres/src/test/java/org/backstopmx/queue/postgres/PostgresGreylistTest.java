package org.backstopmx.queue.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.backstopmx.core.Greylist;
import org.backstopmx.core.Greylist.Entry;
import org.backstopmx.core.Greylist.Triplet;
import org.backstopmx.core.QueueException;
import org.backstopmx.testkit.MutableClock;
import org.junit.jupiter.api.Test;

/** The greylist in the shared database: a try one node saw is known to the other, until it expires and is pruned. */
class PostgresGreylistTest {
    private static final Triplet TRY = new Triplet("192.0.2.0/24", "a@sender.test", "alice@example.test");

    private final MutableClock clock = MutableClock.startingAt("2026-03-01T10:00:00Z");
    private final TestDatabase db = TestDatabase.create();

    @Test
    void aTrySeenByOneNodeIsKnownToTheOtherUntilItExpires() throws Exception {
        try (PostgresMailQueue a = db.open("node-a", clock); PostgresMailQueue b = db.open("node-b", clock)) {
            Instant now = clock.instant();
            a.greylist().put(new Entry(TRY, now, null, now.plus(Duration.ofHours(4))));
            a.greylist().put(new Entry(new Triplet("2001:db8:1:2::/64", "", "bob@example.test"), now, null,
                    now.plus(Duration.ofDays(1))));

            Greylist other = b.greylist();
            assertThat(other.lookup(TRY, now)).hasValueSatisfying(e -> {
                assertThat(e.firstSeen()).isEqualTo(now);
                assertThat(e.passedAt()).isNull();
            });
            assertThat(other.lookup(new Triplet("192.0.2.0/24", "a@sender.test", "bob@example.test"), now)).isEmpty();

            // the retry passes on node b; node a sees the pass
            Instant passed = now.plus(Duration.ofMinutes(6));
            other.put(new Entry(TRY, now, passed, passed.plus(Duration.ofDays(35))));
            clock.advance(Duration.ofDays(2));
            assertThat(a.greylist().lookup(TRY, clock.instant()))
                    .hasValueSatisfying(e -> assertThat(e.passedAt()).isEqualTo(passed));
            assertThat(a.greylist().prune(clock.instant())).isEqualTo(1); // the null sender's, expired after a day

            clock.advance(Duration.ofDays(34));
            assertThat(other.lookup(TRY, clock.instant())).as("expired").isEmpty();
            assertThat(other.prune(clock.instant())).isEqualTo(1);
            a.close();
            assertThatThrownBy(() -> a.greylist().lookup(TRY, clock.instant())).isInstanceOf(QueueException.class);
        }
    }
}
