package org.backstopmx.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.backstopmx.core.config.RetryConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RetryPolicyTest {
    static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
    static final RetryConfig RETRY = new RetryConfig(Duration.ofMinutes(5), Duration.ofMinutes(67));
    static final Duration LIFETIME = Duration.ofDays(5);

    /** A generator whose jitter is always {@code percent}: the rows can then name exact times. */
    static RandomGenerator jitter(double percent) {
        return new RandomGenerator() {
            @Override
            public long nextLong() {
                throw new UnsupportedOperationException();
            }

            @Override
            public double nextDouble(double origin, double bound) {
                assertThat(percent).isBetween(origin, bound);
                return percent;
            }
        };
    }

    static DeliveryOutcome outcome(String kind, Integer code) {
        SmtpReply reply = code == null ? null : SmtpReply.of(code, null, "remote says so");
        SmtpStage stage = code == null ? SmtpStage.CONNECT : SmtpStage.RCPT;
        switch (kind) {
            case "delivered":
                return new DeliveryOutcome.Delivered(reply, "mx.example.org", SmtpStage.DOT);
            case "transient":
                return new DeliveryOutcome.Transient(reply, "mx.example.org", stage);
            default:
                return new DeliveryOutcome.Permanent(reply, "mx.example.org", stage);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(nullValues = "-", textBlock = """
        # name,                                   state,    outcome,   code, attempts, age,      jitter, next,      delay
        '2xx delivers',                           QUEUED,   delivered, 250,  0,        PT1H,     0,      DELIVERED, -
        '2xx delivers a deferred recipient',      DEFERRED, delivered, 250,  7,        P2D,      0,      DELIVERED, -
        '5xx fails',                              QUEUED,   permanent, 550,  0,        PT1H,     0,      FAILED,    -
        '5xx fails even past the lifetime',       DEFERRED, permanent, 550,  12,       P6D,      0,      FAILED,    -
        'first 4xx waits the minimum',            QUEUED,   transient, 451,  0,        PT1M,     0,      DEFERRED,  PT5M
        'second 4xx waits twice the minimum',     DEFERRED, transient, 451,  1,        PT10M,    0,      DEFERRED,  PT10M
        'fourth 4xx waits eight times',           DEFERRED, transient, 421,  3,        PT1H,     0,      DEFERRED,  PT40M
        'fifth 4xx is capped at the maximum',     DEFERRED, transient, 451,  4,        PT2H,     0,      DEFERRED,  PT67M
        'many attempts do not overflow',          DEFERRED, transient, 451,  400,      P4D,      0,      DEFERRED,  PT67M
        'connection refused (no reply) defers',   QUEUED,   transient, -,    0,        PT1M,     0,      DEFERRED,  PT5M
        'jitter +20% on 10 minutes',              DEFERRED, transient, 451,  1,        PT10M,    20,     DEFERRED,  PT12M
        'jitter -20% on 10 minutes',              DEFERRED, transient, 451,  1,        PT10M,    -20,    DEFERRED,  PT8M
        'jitter never goes below the minimum',    QUEUED,   transient, 451,  0,        PT1M,     -20,    DEFERRED,  PT5M
        'jitter never goes above the maximum',    DEFERRED, transient, 451,  9,        PT3H,     20,     DEFERRED,  PT67M
        'jitter spreads below the maximum',       DEFERRED, transient, 451,  9,        PT3H,     -20,    DEFERRED,  PT53M36S
        'transient at the lifetime expires',      DEFERRED, transient, 451,  30,       P5D,      0,      EXPIRED,   -
        'no reply past the lifetime expires',     DEFERRED, transient, -,    30,       P6D,      0,      EXPIRED,   -
        'next try never after the lifetime',      DEFERRED, transient, 451,  30,       PT119H58M,0,      DEFERRED,  PT2M
        """)
    void decides(String name, RecipientState state, String kind, Integer code, int attempts, Duration age,
            double jitterPercent, RecipientState next, Duration delay) {
        RetryPolicy policy = new RetryPolicy(RETRY, LIFETIME, jitter(jitterPercent));

        RetryPolicy.Decision d = policy.decide(state, outcome(kind, code), attempts, NOW.minus(age), NOW);

        assertThat(d.next()).isEqualTo(next);
        assertThat(d.nextAttemptAt()).isEqualTo(delay == null ? null : NOW.plus(delay));
        assertThat(d.reason()).startsWith(next.name().toLowerCase(java.util.Locale.ROOT) + ":");
        assertThat(d.reason()).contains(code == null ? "no reply at CONNECT" : String.valueOf(code));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = """
        # name,                                         min-backoff, attempts, age,          next,     delay
        'a local failure on the first try: a minute',   PT5M,        0,        PT1M,         DEFERRED, PT1M
        'after many tries still a minute, not 67',      PT5M,        9,        P2D,          DEFERRED, PT1M
        'a shorter min-backoff wins',                   PT30S,       0,        PT1M,         DEFERRED, PT30S
        'never after the lifetime',                     PT5M,        3,        PT119H59M30S, DEFERRED, PT30S
        'past the lifetime it expires',                 PT5M,        3,        P5D,          EXPIRED,  -
        """)
    void aLocalFailureIsRetriedSoon(String name, Duration minBackoff, int attempts, Duration age, RecipientState next,
            String delay) {
        RetryPolicy policy = new RetryPolicy(new RetryConfig(minBackoff, Duration.ofMinutes(67)), LIFETIME, jitter(20));
        DeliveryOutcome local = new DeliveryOutcome.Transient(null, "mx.example.org", SmtpStage.QUEUE,
                "the stored message could not be read");

        RetryPolicy.Decision d = policy.decide(RecipientState.DEFERRED, local, attempts, NOW.minus(age), NOW);

        assertThat(d.next()).isEqualTo(next);
        assertThat(d.nextAttemptAt()).isEqualTo("-".equals(delay) ? null : NOW.plus(Duration.parse(delay)));
        assertThat(d.reason()).contains("the stored message could not be read");
    }

    @ParameterizedTest(name = "{0} + {1} is refused")
    @CsvSource({
        "HELD, delivered",
        "DELIVERED, transient",
        "FAILED, permanent",
        "EXPIRED, delivered",
    })
    void illegalTransitionsAreRefused(RecipientState state, String kind) {
        RetryPolicy policy = new RetryPolicy(RETRY, LIFETIME, new SplittableRandom(1));
        assertThatThrownBy(() -> policy.decide(state, outcome(kind, kind.equals("delivered") ? 250 : 451), 1,
                NOW.minusSeconds(60), NOW)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(
                        state.name());
    }

    @Test
    void aSeededGeneratorStaysWithinTwentyPercentAndTheBounds() {
        RetryPolicy policy = new RetryPolicy(RETRY, LIFETIME, new SplittableRandom(42));
        for (int attempts = 0; attempts < 12; attempts++) {
            double base = Math.min(5.0 * (1 << attempts), 67.0) * 60_000;
            long lo = (long) Math.max(5 * 60_000, Math.floor(base * 0.8));
            long hi = (long) Math.min(67 * 60_000, Math.ceil(base * 1.2));
            for (int i = 0; i < 200; i++) {
                assertThat(policy.backoff(attempts).toMillis()).as("attempts %d", attempts).isBetween(lo, hi);
            }
        }
    }

    @Test
    void theSameSeedGivesTheSameSchedule() {
        RetryPolicy a = new RetryPolicy(RETRY, LIFETIME, new SplittableRandom(7));
        RetryPolicy b = new RetryPolicy(RETRY, LIFETIME, new SplittableRandom(7));
        DeliveryOutcome t = outcome("transient", 451);
        for (int n = 0; n < 5; n++) {
            assertThat(a.decide(RecipientState.DEFERRED, t, n, NOW.minusSeconds(60), NOW))
                    .isEqualTo(b.decide(RecipientState.DEFERRED, t, n, NOW.minusSeconds(60), NOW));
        }
    }

    @Test
    void badSettingsAreRefused() {
        assertThatThrownBy(() -> new RetryPolicy(new RetryConfig(Duration.ZERO, Duration.ofMinutes(1)), LIFETIME,
                new SplittableRandom(1))).hasMessageContaining("min-backoff");
        assertThatThrownBy(() -> new RetryPolicy(new RetryConfig(Duration.ofMinutes(5), Duration.ofMinutes(1)),
                LIFETIME, new SplittableRandom(1))).hasMessageContaining("max-backoff");
        assertThatThrownBy(() -> new RetryPolicy(RETRY, Duration.ZERO, new SplittableRandom(1)))
                .hasMessageContaining("lifetime");
    }
}
