package org.backstopmx.queue;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.backstopmx.core.Greylist;
import org.backstopmx.core.Greylist.Entry;
import org.backstopmx.core.Greylist.Triplet;
import org.backstopmx.core.QueueException;
import org.backstopmx.testkit.MutableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The greylist in a real queue database on disk: look-up until expiry, replacement, pruning, reopening. */
class H2GreylistTest {
    private static final Triplet TRY = new Triplet("192.0.2.0/24", "a@sender.test", "alice@example.test");

    @TempDir
    Path dir;
    final MutableClock clock = MutableClock.startingAt("2026-03-01T10:00:00Z");

    private H2MailQueue open() throws QueueException {
        return H2MailQueue.open(TestMessages.config(dir), TestMessages.MAX_MESSAGE_SIZE, clock);
    }

    @Test
    void anEntryIsFoundUntilItExpiresThenPruned() throws Exception {
        try (H2MailQueue queue = open()) {
            Greylist greylist = queue.greylist();
            Instant now = clock.instant();
            greylist.put(new Entry(TRY, now, null, now.plus(Duration.ofHours(4))));
            greylist.put(new Entry(new Triplet("2001:db8:1:2::/64", "", "bob@example.test"), now, null,
                    now.plus(Duration.ofDays(1))));

            assertThat(greylist.lookup(TRY, now)).hasValueSatisfying(e -> {
                assertThat(e.firstSeen()).isEqualTo(now);
                assertThat(e.passedAt()).isNull();
            });
            assertThat(greylist.lookup(new Triplet("192.0.2.0/24", "a@sender.test", "bob@example.test"), now))
                    .isEmpty();

            Instant passed = now.plus(Duration.ofMinutes(6));
            greylist.put(new Entry(TRY, now, passed, passed.plus(Duration.ofDays(35))));
            clock.advance(Duration.ofDays(2));
            assertThat(greylist.lookup(TRY, clock.instant()))
                    .hasValueSatisfying(e -> assertThat(e.passedAt()).isEqualTo(passed));
            assertThat(greylist.prune(clock.instant())).isEqualTo(1); // the null sender's, expired after a day
        }
        clock.advance(Duration.ofDays(34));
        try (H2MailQueue queue = open()) {
            assertThat(queue.greylist().lookup(TRY, clock.instant())).as("kept across a restart, expired now").isEmpty();
            assertThat(queue.greylist().prune(clock.instant())).isEqualTo(1);
        }
    }
}
