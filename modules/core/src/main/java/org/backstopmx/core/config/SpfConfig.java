package org.backstopmx.core.config;

import java.util.Locale;
import java.util.Objects;

/**
 * The SPF part of {@code screen.*}: checking the sender at MAIL FROM (RFC 7208) and declining to bounce to senders
 * who may be forged.
 *
 * @param policy            {@code screen.spf}: what the check does (default {@link Policy#TAG})
 * @param bounceOnlySpfPass {@code screen.bounce-only-spf-pass}: send DSNs only to senders that passed SPF at intake;
 *                          when false (the default) only those that failed get none
 */
public record SpfConfig(Policy policy, boolean bounceOnlySpfPass) {

    public SpfConfig {
        Objects.requireNonNull(policy, "policy");
    }

    public static SpfConfig defaults() {
        return new SpfConfig(Policy.TAG, false);
    }

    /** What the SPF check at MAIL FROM does. */
    public enum Policy {
        /** No check, no headers. */
        OFF,
        /**
         * Check, and tell the primary: {@code Received-SPF:} and {@code Authentication-Results:} headers; nothing is
         * refused.
         */
        TAG,
        /** As {@link #TAG}, and refuse {@code fail} ({@code 550 5.7.23}) and tempfail {@code temperror} ({@code 451 4.7.24}). */
        ENFORCE;

        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
