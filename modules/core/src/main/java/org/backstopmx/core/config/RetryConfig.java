package org.backstopmx.core.config;

import java.time.Duration;

/** {@code retry.min-backoff} (default 5m) and {@code retry.max-backoff} (default 67m): per-recipient backoff bounds. */
public record RetryConfig(Duration minBackoff, Duration maxBackoff) {
    public static RetryConfig defaults() {
        return new RetryConfig(Duration.ofMinutes(5), Duration.ofMinutes(67));
    }
}
