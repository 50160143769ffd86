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
 * @param type           {@code queue.type}: h2 (one node, the default) or postgresql (several nodes share the queue)
 * @param url            {@code queue.url}: the JDBC URL of the shared queue's database, for postgresql (default none)
 * @param username       {@code queue.username}: the database user, for postgresql (default none)
 * @param passwordFile   {@code queue.password-file}: a file holding the database user's password (default none)
 * @param nodeId         {@code queue.node-id}: this node's name in the shared queue, unique among the nodes; null for
 *                       the {@code hostname} key's value (default)
 * @param leaseTime      {@code queue.lease-time}: with postgresql, how long a recipient claimed by this node stays
 *                       invisible to the others; after it another node takes the recipient of a node that died
 *                       (default 5m). A live node renews its leases every third of it; at least 1m.
 */
public record QueueConfig(Path path, Duration lifetime, long minFreeSpace, double compactRatio, long compactMinSize,
        Duration expiryWarning, AtExpiry atExpiry, QueueType type, String url, String username, Path passwordFile,
        String nodeId, Duration leaseTime) {
    public static final Duration DEFAULT_EXPIRY_WARNING = Duration.ofHours(24);
    public static final Duration DEFAULT_LEASE_TIME = Duration.ofMinutes(5);

    public QueueConfig {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(lifetime, "lifetime");
        Objects.requireNonNull(expiryWarning, "expiryWarning");
        Objects.requireNonNull(atExpiry, "atExpiry");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(leaseTime, "leaseTime");
    }

    /** The H2 queue, for one node. */
    public QueueConfig(Path path, Duration lifetime, long minFreeSpace, double compactRatio, long compactMinSize,
            Duration expiryWarning, AtExpiry atExpiry) {
        this(path, lifetime, minFreeSpace, compactRatio, compactMinSize, expiryWarning, atExpiry, QueueType.H2, null,
                null, null, null, DEFAULT_LEASE_TIME);
    }

    /** With the default {@code queue.expiry-warning} and {@code queue.at-expiry}. */
    public QueueConfig(Path path, Duration lifetime, long minFreeSpace, double compactRatio, long compactMinSize) {
        this(path, lifetime, minFreeSpace, compactRatio, compactMinSize, DEFAULT_EXPIRY_WARNING, AtExpiry.BOUNCE);
    }

    public static QueueConfig defaults() {
        return new QueueConfig(Path.of("data"), Duration.ofDays(5), 0, 4.0, 64L * 1024 * 1024);
    }

    public QueueConfig withPath(Path newPath) {
        return new QueueConfig(newPath, lifetime, minFreeSpace, compactRatio, compactMinSize, expiryWarning, atExpiry,
                type, url, username, passwordFile, nodeId, leaseTime);
    }

    public QueueConfig withAtExpiry(AtExpiry newAtExpiry) {
        return new QueueConfig(path, lifetime, minFreeSpace, compactRatio, compactMinSize, expiryWarning, newAtExpiry,
                type, url, username, passwordFile, nodeId, leaseTime);
    }
}
