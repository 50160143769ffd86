package org.backstopmx.forwarder.delivery;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.backstopmx.core.DeliveryOutcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which destinations (keyed by recipient domain) are down. A destination is down once a session could not be opened
 * with any of its hosts; while down, its recipients are deferred without a connection (no thundering herd on a
 * primary that is starting up) and only the health probe knocks, every {@code probe.interval}. The first session
 * that opens (probe, delivery or ETRN) marks it up again.
 *
 * <p>Thread-safe. State is in memory only: after a restart every destination is presumed up and the first attempt
 * finds out.
 */
final class DestinationHealth {
    private static final Logger LOG = LoggerFactory.getLogger(DestinationHealth.class);

    /**
     * A destination that is down.
     *
     * @param since     when it was marked down
     * @param nextProbe when the probe knocks next
     * @param failure   what the last attempt came to: what its deferred recipients record
     * @param probes    failed probes since it went down
     */
    record Down(Instant since, Instant nextProbe, DeliveryOutcome failure, int probes) {
    }

    /** Told about every change, for metrics. */
    interface Listener {
        void changed(String destination, boolean up);
    }

    private final Map<String, Down> down = new ConcurrentHashMap<>();
    private final Map<String, Boolean> probing = new ConcurrentHashMap<>();
    private final Duration probeInterval;
    private volatile Listener listener = (d, up) -> { };

    DestinationHealth(Duration probeInterval) {
        this.probeInterval = probeInterval;
    }

    void listener(Listener l) {
        this.listener = l;
    }

    Optional<Down> down(String destination) {
        return Optional.ofNullable(down.get(destination));
    }

    boolean isDown(String destination) {
        return down.containsKey(destination);
    }

    /** Marks the destination down (or keeps it down with the newer failure); returns true when it was up. */
    boolean markDown(String destination, DeliveryOutcome failure, Instant now) {
        Down before = down.putIfAbsent(destination, new Down(now, now.plus(probeInterval), failure, 0));
        if (before == null) {
            LOG.warn("destination {} is down: {}; its mail is held and it is probed every {}", destination,
                    failure.describe(), probeInterval);
            listener.changed(destination, false);
            return true;
        }
        return false;
    }

    /** A probe failed: the next one is an interval later. */
    void probeFailed(String destination, DeliveryOutcome failure, Instant now) {
        down.computeIfPresent(destination, (k, d) -> new Down(d.since(), now.plus(probeInterval), failure, d.probes() + 1));
        LOG.info("destination {} is still down: {}", destination, failure.describe());
    }

    /** Marks the destination up; returns true when it was down (the caller then flushes its queue). */
    boolean markUp(String destination, Instant now) {
        Down before = down.remove(destination);
        if (before != null) {
            LOG.info("destination {} is up again after {} (down since {})", destination,
                    Duration.between(before.since(), now), before.since());
            listener.changed(destination, true);
            return true;
        }
        return false;
    }

    /** The down destinations whose probe is due at {@code now} and not already running, now marked as probing. */
    List<String> claimProbes(Instant now) {
        List<String> due = new ArrayList<>();
        down.forEach((destination, d) -> {
            if (!d.nextProbe().isAfter(now) && probing.putIfAbsent(destination, Boolean.TRUE) == null) {
                due.add(destination);
            }
        });
        return due;
    }

    void probeDone(String destination) {
        probing.remove(destination);
    }

    /** When the earliest probe is due, if any destination is down. */
    Optional<Instant> nextProbe() {
        return down.values().stream().map(Down::nextProbe).min(Instant::compareTo);
    }

}
