package org.backstopmx.forwarder.delivery;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.backstopmx.forwarder.smtp.RelayClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Idle SMTP sessions kept per destination for {@code delivery.connection-reuse-time}, so the next message to it does
 * not pay for a new session (like Postfix's {@code scache}). The most recently parked session is reused first; one
 * parked longer than the reuse time, or closed by the server meanwhile, is closed rather than reused.
 *
 * <p>Thread-safe: guarded by its own monitor, which it holds only to move sessions in and out, never while talking to
 * a server. Nothing here fails: a session that cannot be closed cleanly is dropped.
 */
final class ConnectionCache {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionCache.class);

    private record Idle(RelayClient client, Instant since) {
    }

    private final Map<String, Deque<Idle>> idle = new HashMap<>();
    private final Duration reuseTime;
    private final Clock clock;

    ConnectionCache(Duration reuseTime, Clock clock) {
        this.reuseTime = reuseTime;
        this.clock = clock;
    }

    /**
     * Keeps {@code client}, if it is open and reuse is on; returns true when it was kept (the caller no longer owns it).
     */
    synchronized boolean park(String destination, RelayClient client) {
        if (client == null || !client.isOpen() || reuseTime.isZero()) {
            return false;
        }
        idle.computeIfAbsent(destination, d -> new ArrayDeque<>()).push(new Idle(client, clock.instant()));
        return true;
    }

    /** A parked session to {@code destination} that is still fresh and open, now the caller's; or null. */
    RelayClient take(String destination) {
        Instant now = clock.instant();
        List<RelayClient> stale = new ArrayList<>();
        RelayClient found = null;
        synchronized (this) {
            Deque<Idle> parked = idle.get(destination);
            Idle i;
            while (parked != null && (i = parked.poll()) != null) {
                if (!expired(i, now) && i.client().isOpen()) {
                    found = i.client();
                    break;
                }
                stale.add(i.client());
            }
        }
        stale.forEach(ConnectionCache::closeQuietly);
        return found;
    }

    /** Closes (QUIT) every session parked longer than the reuse time. */
    void closeStale() {
        Instant now = clock.instant();
        List<RelayClient> stale = new ArrayList<>();
        synchronized (this) {
            for (Deque<Idle> parked : idle.values()) {
                parked.removeIf(i -> {
                    if (expired(i, now)) {
                        stale.add(i.client());
                        return true;
                    }
                    return false;
                });
            }
        }
        stale.forEach(ConnectionCache::closeQuietly);
    }

    /** Closes every parked session (stopping). */
    void closeAll() {
        List<RelayClient> all = new ArrayList<>();
        synchronized (this) {
            idle.values().forEach(parked -> parked.forEach(i -> all.add(i.client())));
            idle.clear();
        }
        all.forEach(ConnectionCache::closeQuietly);
    }

    private boolean expired(Idle i, Instant now) {
        return Duration.between(i.since(), now).compareTo(reuseTime) > 0;
    }

    static void closeQuietly(RelayClient client) {
        if (client != null) {
            try {
                client.close();
            } catch (RuntimeException e) {
                LOG.debug("closing {} failed", client.host(), e);
            }
        }
    }
}
