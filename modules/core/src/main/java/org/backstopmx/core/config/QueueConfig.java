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
 */
public record QueueConfig(Path path, Duration lifetime, long minFreeSpace, double compactRatio, long compactMinSize) {
    public QueueConfig {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(lifetime, "lifetime");
    }

    public static QueueConfig defaults() {
        return new QueueConfig(Path.of("data"), Duration.ofDays(5), 0, 4.0, 64L * 1024 * 1024);
    }

    public QueueConfig withPath(Path newPath) {
        return new QueueConfig(newPath, lifetime, minFreeSpace, compactRatio, compactMinSize);
    }
}
