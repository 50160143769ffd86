package org.backstopmx.core.config;

import java.time.Duration;
import java.util.Objects;

/**
 * {@code callout.*}: recipient verification by asking the primary, for domains with
 * {@code recipient-check: callout}.
 *
 * @param timeout         {@code callout.timeout} (default 10s): the longest an RCPT waits for a callout, waiting for
 *                        a free session included; past it the primary counts as unreachable for that check
 * @param maxSessions     {@code callout.max-sessions} (default 5): callout sessions at most per domain at once
 * @param positiveTtl     {@code callout.positive-ttl} (default 30d): how long "the primary accepts it" is believed
 * @param negativeTtl     {@code callout.negative-ttl} (default 1h): how long "the primary refuses it" is believed
 * @param unknownWhenDown {@code callout.unknown-when-down}: what a recipient the cache has never seen gets while the
 *                        primary cannot be asked
 */
public record CalloutConfig(Duration timeout, int maxSessions, Duration positiveTtl, Duration negativeTtl,
        UnknownWhenDown unknownWhenDown) {

    /** {@code callout.unknown-when-down}, written in lower case. */
    public enum UnknownWhenDown {
        /** 450 4.1.1: the sender's MTA retries later, when the primary can be asked (no backscatter can result). */
        TEMPFAIL,
        /** Accepted: nothing is deferred, but the primary may refuse it later and Backstop then bounces it. */
        ACCEPT;

        public String configName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public CalloutConfig {
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(positiveTtl, "positiveTtl");
        Objects.requireNonNull(negativeTtl, "negativeTtl");
        Objects.requireNonNull(unknownWhenDown, "unknownWhenDown");
        if (maxSessions < 1) {
            throw new IllegalArgumentException("maxSessions must be positive: " + maxSessions);
        }
    }

    public static CalloutConfig defaults() {
        return new CalloutConfig(Duration.ofSeconds(10), 5, Duration.ofDays(30), Duration.ofHours(1), UnknownWhenDown.TEMPFAIL);
    }

    /** Whether an unknown recipient is accepted while the primary cannot be asked. */
    public boolean acceptUnknownWhenDown() {
        return unknownWhenDown == UnknownWhenDown.ACCEPT;
    }
}
