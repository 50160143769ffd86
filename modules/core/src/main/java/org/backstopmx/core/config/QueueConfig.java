package org.backstopmx.core.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * The {@code queue.*} keys.
 *
 * @param path           {@code queue.path}: directory of the H2 database and of {@code spool/} (default ./data)
 * @param lifetime       {@code queue.lifetime}: how long a message may wait before it expires and bounces (default 5d)
 * @param minFreeSpace   {@code queue.min-free-space}: bytes that must stay free on the queue's file system; below it
 *                       MAIL gets 452 4.3.1 (default 0 = 1.5 × smtp.max-message-size, like Postfix)
 * @param compactRatio   {@code queue.compact-ratio}: compact the database when its file is this many times larger than
 *                       the estimated live data (default 4)
 * @param compactMinSize {@code queue.compact-min-size}: never compact a database file smaller than this (default 64MB)
 * @param expiryWarning  {@code queue.expiry-warning}: recipients that expire within this are counted in
 *                       {@code backstop_queue_expiring_recipients} (default 24h)
 * @param atExpiry       {@code queue.at-expiry}: bounce or hold a recipient at the end of its lifetime (default bounce)
 */
public record QueueConfig(Path path, Duration lifetime, long minFreeSpace, double compactRatio, long compactMinSize,
        Duration expiryWarning, AtExpiry atExpiry) {
    public static final Duration DEFAULT_EXPIRY_WARNING = Duration.ofHours(24);

    public QueueConfig {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(lifetime, "lifetime");
        Objects.requireNonNull(expiryWarning, "expiryWarning");
        Objects.requireNonNull(atExpiry, "atExpiry");
    }

    /** With the default {@code queue.expiry-warning} and {@code queue.at-expiry}. */
    public QueueConfig(Path path, Duration lifetime, long minFreeSpace, double compactRatio, long compactMinSize) {
        this(path, lifetime, minFreeSpace, compactRatio, compactMinSize, DEFAULT_EXPIRY_WARNING, AtExpiry.BOUNCE);
    }

    public static QueueConfig defaults() {
        return new QueueConfig(Path.of("data"), Duration.ofDays(5), 0, 4.0, 64L * 1024 * 1024);
    }

    public QueueConfig withPath(Path newPath) {
        return new QueueConfig(newPath, lifetime, minFreeSpace, compactRatio, compactMinSize, expiryWarning, atExpiry);
    }

    public QueueConfig withAtExpiry(AtExpiry newAtExpiry) {
        return new QueueConfig(path, lifetime, minFreeSpace, compactRatio, compactMinSize, expiryWarning, newAtExpiry);
    }
}
