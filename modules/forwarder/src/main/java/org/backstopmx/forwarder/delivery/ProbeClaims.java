package org.backstopmx.forwarder.delivery;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The probes of one kind under way ({@link DownDestinations}, {@link PrimaryWatch}): at most one per domain at a
 * time, whether run in the pool by the scheduler or in the caller's thread by a test. A probe is claimed when it is
 * due and released by {@link #done} when it ends, whatever it came to. Thread-safe.
 */
final class ProbeClaims {
    private final Map<String, Boolean> running = new ConcurrentHashMap<>();
    private final Executor pool;

    /** @param pool where {@link #runInPool} runs probes (the delivery pool) */
    ProbeClaims(Executor pool) {
        this.pool = pool;
    }

    /** The domains of {@code states} whose probe ({@code nextProbe}) is due at {@code now} and not running, claimed. */
    <V> List<String> claim(Map<String, V> states, Function<V, Instant> nextProbe, Instant now) {
        List<String> due = new ArrayList<>();
        states.forEach((domain, state) -> {
            if (!nextProbe.apply(state).isAfter(now) && running.putIfAbsent(domain, Boolean.TRUE) == null) {
                due.add(domain);
            }
        });
        return due;
    }

    /**
     * Runs {@code probe} in the pool for each of {@code claimed}; each run must end with {@link #done}. When the pool
     * takes no more (it is shut down: closing), the claims not handed over are released and the refusal is thrown.
     */
    void runInPool(List<String> claimed, Consumer<String> probe) {
        for (int i = 0; i < claimed.size(); i++) {
            String domain = claimed.get(i);
            try {
                pool.execute(() -> probe.accept(domain));
            } catch (Throwable t) {
                claimed.subList(i, claimed.size()).forEach(running::remove);
                throw t;
            }
        }
    }

    /** The probe of {@code domain} has ended. */
    void done(String domain) {
        running.remove(domain);
    }
}
