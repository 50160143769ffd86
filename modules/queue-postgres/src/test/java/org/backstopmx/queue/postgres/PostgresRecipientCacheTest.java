package org.backstopmx.queue.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.RecipientCache;
import org.backstopmx.core.RecipientCache.Entry;
import org.backstopmx.testkit.MutableClock;
import org.junit.jupiter.api.Test;

/** The callout answers in the shared database: what one node learns, the other believes. */
class PostgresRecipientCacheTest {
    private final MutableClock clock = MutableClock.startingAt("2026-03-01T10:00:00Z");
    private final TestDatabase db = TestDatabase.create();

    @Test
    void whatOneNodeLearnsTheOtherBelievesUntilItExpires() throws Exception {
        try (PostgresMailQueue a = db.open("node-a", clock); PostgresMailQueue b = db.open("node-b", clock)) {
            Instant now = clock.instant();
            a.recipientCache().put(entry("Alice@Example.org", true, now, Duration.ofDays(30)));
            a.recipientCache().put(entry("nobody@example.org", false, now, Duration.ofHours(1)));

            RecipientCache seen = b.recipientCache();
            assertThat(seen.lookup("ALICE@example.org", now)).get().extracting(Entry::valid).isEqualTo(true);
            assertThat(seen.lookup("nobody@example.org", now)).get().extracting(Entry::reply)
                    .isEqualTo("550 5.1.1 no such user");
            assertThat(seen.list("example.org", now, 10)).extracting(Entry::address)
                    .containsExactly("alice@example.org", "nobody@example.org");
            assertThat(seen.list(null, now, 1)).hasSize(1);

            Instant later = now.plus(Duration.ofHours(2));
            assertThat(seen.lookup("nobody@example.org", later)).isEmpty();
            assertThat(seen.sizeByDomain(later)).isEqualTo(Map.of("example.org", 1L));
            // a newer answer replaces the old one
            b.recipientCache().putAll(List.of(entry("alice@example.org", false, later, Duration.ofHours(1))));
            assertThat(a.recipientCache().lookup("alice@example.org", later)).get().extracting(Entry::valid)
                    .isEqualTo(false);
            assertThat(a.recipientCache().forget("alice@example.org")).isTrue();
            assertThat(a.recipientCache().forget("alice@example.org")).isFalse();
            a.close();
            assertThatThrownBy(() -> a.recipientCache().lookup("x@example.org", later))
                    .isInstanceOf(QueueException.class);
        }
    }

    private static Entry entry(String address, boolean valid, Instant at, Duration ttl) {
        return new Entry(address.toLowerCase(java.util.Locale.ROOT), valid, valid ? null : "550 5.1.1 no such user",
                at, at.plus(ttl), valid ? RecipientCache.Source.DELIVERY : RecipientCache.Source.CALLOUT);
    }
}
