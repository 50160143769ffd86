package org.backstopmx.core.config;

import java.time.Duration;

/**
 * {@code probe.interval} (default 30s): how often a destination marked down is probed, and, up or down, the primary of
 * each domain in standby mode ({@code accept: when-primary-down}).
 */
public record ProbeConfig(Duration interval) {
    public static ProbeConfig defaults() {
        return new ProbeConfig(Duration.ofSeconds(30));
    }
}
