package org.backstopmx.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.RecipientCache;
import org.backstopmx.core.RecipientCache.Entry;
import org.backstopmx.core.RecipientCache.Source;
import org.backstopmx.testkit.MutableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The recipient cache in a real queue database on disk: expiry by moved time, replacement, sizes, reopening. */
class H2RecipientCacheTest {
    @TempDir
    Path dir;
    final MutableClock clock = MutableClock.startingAt("2026-03-01T10:00:00Z");

    private H2MailQueue open() throws QueueException {
        return H2MailQueue.open(TestMessages.config(dir), TestMessages.MAX_MESSAGE_SIZE, clock);
    }

    private Entry entry(String address, boolean valid, Duration ttl) {
        Instant now = clock.instant();
        return new Entry(address, valid, valid ? null : "<" + address + ">: User unknown", now, now.plus(ttl),
                Source.CALLOUT);
    }

    @Test
    void anEntryIsBelievedUntilItExpiresAndCaseDoesNotMatter() throws Exception {
        try (H2MailQueue queue = open()) {
            RecipientCache cache = queue.recipientCache();
            cache.put(entry("alice@example.test", true, Duration.ofDays(30)));
            cache.put(entry("nobody@example.test", false, Duration.ofHours(1)));

            assertThat(cache.lookup("Alice@Example.TEST", clock.instant())).hasValueSatisfying(e -> {
                assertThat(e.valid()).isTrue();
                assertThat(e.source()).isEqualTo(Source.CALLOUT);
                assertThat(e.learnedAt()).isEqualTo(clock.instant());
            });
            assertThat(cache.lookup("nobody@example.test", clock.instant()))
                    .hasValueSatisfying(e -> assertThat(e.reply()).isEqualTo("<nobody@example.test>: User unknown"));

            clock.advance(Duration.ofHours(1));
            assertThat(cache.lookup("nobody@example.test", clock.instant())).isEmpty();
            assertThat(cache.lookup("alice@example.test", clock.instant())).isPresent();
            clock.advance(Duration.ofDays(30));
            assertThat(cache.lookup("alice@example.test", clock.instant())).isEmpty();
        }
    }

    @Test
    void aNewAnswerReplacesTheOldOneAndSizesCountOnlyLiveEntries() throws Exception {
        try (H2MailQueue queue = open()) {
            RecipientCache cache = queue.recipientCache();
            cache.putAll(List.of(entry("bob@example.test", false, Duration.ofHours(1)),
                    entry("carol@example.test", true, Duration.ofMinutes(5)),
                    entry("dave@other.test", true, Duration.ofDays(1))));
            cache.put(entry("bob@example.test", true, Duration.ofDays(30)));
            assertThat(cache.lookup("bob@example.test", clock.instant()))
                    .hasValueSatisfying(e -> assertThat(e.valid()).isTrue());
            assertThat(cache.sizeByDomain(clock.instant())).containsEntry("example.test", 2L)
                    .containsEntry("other.test", 1L);

            clock.advance(Duration.ofMinutes(10));
            assertThat(cache.sizeByDomain(clock.instant())).containsEntry("example.test", 1L);
            assertThat(cache.list("example.test", clock.instant(), 10)).extracting(Entry::address)
                    .containsExactly("bob@example.test");
            assertThat(cache.list(null, clock.instant(), 10)).extracting(Entry::address)
                    .containsExactly("bob@example.test", "dave@other.test");
            assertThat(cache.list(null, clock.instant(), 1)).hasSize(1);

            assertThat(cache.forget("BOB@example.test")).isTrue();
            assertThat(cache.forget("bob@example.test")).isFalse();
            assertThat(cache.lookup("bob@example.test", clock.instant())).isEmpty();
        }
    }

    @Test
    void theCacheIsStillThereAfterTheQueueIsReopened() throws Exception {
        try (H2MailQueue queue = open()) {
            queue.recipientCache().put(entry("alice@example.test", true, Duration.ofDays(30)));
        }
        try (H2MailQueue queue = open()) {
            assertThat(queue.recipientCache().lookup("alice@example.test", clock.instant())).isPresent();
        }
    }

    @Test
    void aClosedQueueRefusesInsteadOfTouchingItsDatabase() throws Exception {
        H2MailQueue queue = open();
        RecipientCache cache = queue.recipientCache();
        queue.close();
        assertThatThrownBy(() -> cache.lookup("alice@example.test", clock.instant()))
                .isInstanceOf(QueueException.class).hasMessageContaining("the queue is closed");
    }
}
