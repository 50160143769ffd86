package org.backstopmx.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class QueueIdTest {
    @Test
    void idsAreUniqueAndSortByTime() {
        Clock early = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
        Clock late = Clock.fixed(Instant.parse("2026-01-01T00:00:01Z"), ZoneOffset.UTC);
        Set<QueueId> seen = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            assertThat(seen.add(QueueId.next(early))).isTrue();
        }
        assertThat(QueueId.next(late)).isGreaterThan(QueueId.next(early));
        assertThat(QueueId.isValid(QueueId.next(late).value())).isTrue();
        assertThat(QueueId.isValid("../../etc/passwd")).isFalse();
    }
}
