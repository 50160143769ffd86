package org.backstopmx.core;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.random.RandomGenerator;
import org.backstopmx.core.config.AtExpiry;
import org.backstopmx.core.config.RetryConfig;

/**
 * The per-recipient retry rule, as a pure function: from the recipient's state, the outcome of an attempt, how many
 * attempts came before, when the message was first queued and the time now, it computes the next state and when to
 * try next. No I/O; the only input besides the arguments is the injected random generator for the jitter.
 *
 * <ul>
 * <li>{@link DeliveryOutcome.Delivered} → {@link RecipientState#DELIVERED}.
 * <li>{@link DeliveryOutcome.Permanent} → {@link RecipientState#FAILED}, however old the message.
 * <li>{@link DeliveryOutcome.Transient} → {@link RecipientState#EXPIRED} once the message is as old as the queue
 *     lifetime (or {@link RecipientState#HELD}, without a next attempt, when {@code queue.at-expiry} is
 *     {@link AtExpiry#HOLD}: it waits for an administrator instead of bouncing); otherwise {@link RecipientState#DEFERRED}, next try after {@code min × 2^attempts}, capped at
 *     {@code max}, moved by ±{@value #JITTER_PERCENT} % jitter (so recipients deferred together do not come due
 *     together) and kept within {@code [min, max]}. The next try is never after the end of the lifetime, so a
 *     message expires on time rather than up to {@code max} late.
 * <li>A {@link DeliveryOutcome.Transient} decided at {@link SmtpStage#QUEUE} (the attempt was cut short on our side:
 *     the stored message could not be read) is retried after {@link #LOCAL_RETRY} (or {@code min}, if shorter), not
 *     after the backoff: the destination did nothing wrong. Expiry applies as above. XXX: a body that stays unreadable
 *     is tried again every {@link #LOCAL_RETRY} until the message expires.
 * </ul>
 * Like Postfix's {@code minimal_backoff_time}/{@code maximal_backoff_time}/{@code maximal_queue_lifetime}.
 */
public final class RetryPolicy {
    /** How soon a recipient whose attempt failed on our side ({@link SmtpStage#QUEUE}) is tried again. */
    public static final Duration LOCAL_RETRY = Duration.ofMinutes(1);
    /** The jitter, in percent of the backoff either way. */
    public static final int JITTER_PERCENT = 20;
    /** 2^30 × any sane minimum is far above any maximum; the exponent stops here so nothing overflows. */
    private static final int MAX_EXPONENT = 30;

    /**
     * What to do with a recipient after an attempt.
     *
     * @param next          the recipient's next state
     * @param nextAttemptAt when it is due again, or null when {@code next} is not a due state (final, or HELD)
     * @param reason        one line for the log: what happened and why this state
     */
    public record Decision(RecipientState next, Instant nextAttemptAt, String reason) {
        public Decision {
            Objects.requireNonNull(next, "next");
            Objects.requireNonNull(reason, "reason");
            if (next.isScheduled() != (nextAttemptAt != null)) {
                throw new IllegalArgumentException("a next attempt time is needed for " + next
                        + " and only for a due state: " + nextAttemptAt);
            }
        }
    }

    private final Duration minBackoff;
    private final Duration maxBackoff;
    private final Duration lifetime;
    private final RandomGenerator random;
    private final AtExpiry atExpiry;

    /** Bouncing at expiry ({@code queue.at-expiry: bounce}). */
    public RetryPolicy(RetryConfig retry, Duration lifetime, RandomGenerator random) {
        this(retry, lifetime, random, AtExpiry.BOUNCE);
    }

    /**
     * @param retry    {@code retry.min-backoff} and {@code retry.max-backoff}
     * @param lifetime {@code queue.lifetime}
     * @param random   the jitter's source; a seeded one in tests
     * @param atExpiry {@code queue.at-expiry}
     */
    public RetryPolicy(RetryConfig retry, Duration lifetime, RandomGenerator random, AtExpiry atExpiry) {
        this.atExpiry = Objects.requireNonNull(atExpiry, "atExpiry");
        this.minBackoff = Objects.requireNonNull(retry.minBackoff(), "min-backoff");
        this.maxBackoff = Objects.requireNonNull(retry.maxBackoff(), "max-backoff");
        this.lifetime = Objects.requireNonNull(lifetime, "lifetime");
        this.random = Objects.requireNonNull(random, "random");
        if (minBackoff.isNegative() || minBackoff.isZero()) {
            throw new IllegalArgumentException("retry.min-backoff must be positive: " + minBackoff);
        }
        if (maxBackoff.compareTo(minBackoff) < 0) {
            throw new IllegalArgumentException("retry.max-backoff " + maxBackoff + " is below retry.min-backoff "
                    + minBackoff);
        }
        if (lifetime.isNegative() || lifetime.isZero()) {
            throw new IllegalArgumentException("queue.lifetime must be positive: " + lifetime);
        }
    }

    /** {@code queue.lifetime}: how long a message may stay before its pending recipients expire. */
    public Duration lifetime() {
        return lifetime;
    }

    /**
     * Decides the next state after an attempt.
     *
     * @param current       the recipient's state when the attempt started (QUEUED or DEFERRED)
     * @param outcome       what the attempt came to
     * @param attempts      attempts made before this one (0 for the first)
     * @param firstQueuedAt when the message was received
     * @param now           the time of the outcome
     * @throws IllegalArgumentException when {@code current} may not move to the state the outcome calls for (for
     *                                  example a recipient already final or HELD)
     */
    public Decision decide(RecipientState current, DeliveryOutcome outcome, int attempts, Instant firstQueuedAt,
            Instant now) {
        Objects.requireNonNull(current, "current");
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(firstQueuedAt, "firstQueuedAt");
        Objects.requireNonNull(now, "now");
        if (attempts < 0) {
            throw new IllegalArgumentException("negative attempts: " + attempts);
        }
        Instant expiresAt = firstQueuedAt.plus(lifetime);
        Decision decision;
        if (outcome instanceof DeliveryOutcome.Delivered) {
            decision = new Decision(RecipientState.DELIVERED, null, "delivered: " + outcome.describe());
        } else if (outcome instanceof DeliveryOutcome.Permanent) {
            decision = new Decision(RecipientState.FAILED, null, "failed: " + outcome.describe());
        } else if (!now.isBefore(expiresAt) && atExpiry == AtExpiry.HOLD) {
            decision = new Decision(RecipientState.HELD, null, "held at expiry (queue.at-expiry: hold): queued longer"
                    + " than " + lifetime + "; last: " + outcome.describe());
        } else if (!now.isBefore(expiresAt)) {
            decision = new Decision(RecipientState.EXPIRED, null,
                    "expired: queued longer than " + lifetime + "; last: " + outcome.describe());
        } else {
            boolean local = outcome.stage() == SmtpStage.QUEUE;
            Duration delay = local ? (LOCAL_RETRY.compareTo(minBackoff) < 0 ? LOCAL_RETRY : minBackoff)
                    : backoff(attempts);
            Instant next = now.plus(delay);
            if (next.isAfter(expiresAt)) {
                next = expiresAt;
            }
            decision = new Decision(RecipientState.DEFERRED, next, "deferred" + (local ? " (local failure)" : "")
                    + ": " + outcome.describe() + "; next try at " + next);
        }
        if (!current.canMoveTo(decision.next())) {
            throw new IllegalArgumentException("a recipient in " + current + " cannot move to " + decision.next());
        }
        return decision;
    }

    /**
     * When a recipient that has not been tried yet comes due if it is deferred from the start (its destination is
     * down): as if its first attempt had just been deferred, {@code now} plus the first backoff with jitter.
     */
    public Instant firstRetry(Instant now) {
        return now.plus(backoff(0));
    }

    /** {@code min × 2^attempts}, capped at max, ±jitter, within {@code [min, max]}. */
    Duration backoff(int attempts) {
        long min = minBackoff.toMillis();
        long max = maxBackoff.toMillis();
        int exponent = Math.min(attempts, MAX_EXPONENT);
        double base = Math.min((double) min * (1L << exponent), (double) max);
        double factor = 1 + (random.nextDouble(-JITTER_PERCENT, JITTER_PERCENT) / 100.0);
        long jittered = Math.round(base * factor);
        return Duration.ofMillis(Math.max(min, Math.min(max, jittered)));
    }
}
