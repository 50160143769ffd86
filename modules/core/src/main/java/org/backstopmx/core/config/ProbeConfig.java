package org.backstopmx.core.config;

import java.time.Duration;

/**
 * The probe of the primaries.
 *
 * @param interval        {@code probe.interval} (default 30s): how often a destination marked down is probed, and the
 *                        primary of each domain in standby mode ({@code accept: when-primary-down}), up or down
 * @param acceptDownAfter {@code accept.down-after} (default 2): probes in a row that must fail before a domain in
 *                        standby mode is taken, and that must answer before it is refused again (hysteresis both
 *                        ways, so one lost probe does not flip it)
 */
public record ProbeConfig(Duration interval, int acceptDownAfter) {
    public static final int DEFAULT_DOWN_AFTER = 2;

    public ProbeConfig {
        if (acceptDownAfter < 1) {
            throw new IllegalArgumentException("accept.down-after must be positive: " + acceptDownAfter);
        }
    }

    /** With the default {@code accept.down-after}. */
    public ProbeConfig(Duration interval) {
        this(interval, DEFAULT_DOWN_AFTER);
    }

    public static ProbeConfig defaults() {
        return new ProbeConfig(Duration.ofSeconds(30));
    }
}
