package org.backstopmx.forwarder.delivery;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.forwarder.smtp.RelayClient;

/**
 * The callout's sessions to each callout domain's primary: at most {@code maxSessions} per domain at once, each used
 * by one check at a time and kept for the next one while it is idle less than {@link #IDLE}. A session found broken
 * when reused (the primary closed it meanwhile) is replaced by a new one once.
 *
 * <p>Thread-safe. XXX an idle session is closed only when its domain is next checked, or at {@link #close()}: until
 * then the primary keeps it open until its own idle timeout.
 */
final class CalloutSessions implements AutoCloseable {
    /** How long an idle session is kept; well under the 5 minutes a server waits for a command (RFC 5321 §4.5.3.2.7). */
    static final Duration IDLE = Duration.ofSeconds(30);

    /** What one check came to: the RCPT reply, or empty when the primary could not be asked (and why). */
    record Answer(Optional<SmtpReply> rcpt, String problem, RelayClient session) {
    }

    private record Idle(RelayClient client, Instant since) {
    }

    private final Connector connector;
    private final int maxSessions;
    private final Clock clock;
    private final Map<String, Semaphore> permits = new ConcurrentHashMap<>();
    private final Map<String, Deque<Idle>> idle = new ConcurrentHashMap<>();

    CalloutSessions(Connector connector, int maxSessions, Clock clock) {
        this.connector = connector;
        this.maxSessions = maxSessions;
        this.clock = clock;
    }

    /**
     * A permit to use one session to {@code domain}'s primary, waiting at most {@code wait}; false when none came free
     * in time (the bound is reached: the caller treats the primary as unreachable for this check).
     */
    boolean acquire(String domain, Duration wait) throws InterruptedException {
        return permits.computeIfAbsent(domain, d -> new Semaphore(maxSessions, true))
                .tryAcquire(wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Gives back a permit from {@link #acquire}. */
    void release(String domain) {
        permits.get(domain).release();
    }

    /**
     * Checks {@code address} over an idle session or a new one; the caller holds a permit. Returns the session (open,
     * for {@link #keep}) with the answer, or none when it failed.
     */
    Answer check(String domain, String address) {
        RelayClient reused = takeIdle(domain);
        if (reused != null) {
            Optional<SmtpReply> reply = reused.verify(address);
            if (reply.isPresent()) {
                return new Answer(reply, null, reused.isOpen() ? reused : null);
            }
            reused.close(); // closed by the primary while idle: one more try on a new session
        }
        Connector.Opened opened = connector.open(domain);
        if (opened instanceof Connector.Refused r) {
            return new Answer(Optional.empty(), r.outcome().describe(), null);
        }
        RelayClient client = ((Connector.Session) opened).client();
        Optional<SmtpReply> reply = client.verify(address);
        String problem = reply.isPresent() ? null : client.failure()
                .map(f -> f.detail() + " at " + f.stage()).orElse("no answer");
        return new Answer(reply, problem, client.isOpen() ? client : null);
    }

    /** Keeps an open session for the next check of {@code domain}. */
    void keep(String domain, RelayClient client) {
        idle.computeIfAbsent(domain, d -> new ArrayDeque<>());
        Deque<Idle> q = idle.get(domain);
        synchronized (q) {
            q.push(new Idle(client, clock.instant()));
        }
    }

    private RelayClient takeIdle(String domain) {
        Deque<Idle> q = idle.get(domain);
        if (q == null) {
            return null;
        }
        Instant now = clock.instant();
        List<RelayClient> stale = new ArrayList<>();
        RelayClient found = null;
        synchronized (q) {
            q.removeIf(i -> {
                boolean old = !i.since().plus(IDLE).isAfter(now);
                if (old) {
                    stale.add(i.client());
                }
                return old;
            });
            Idle next = q.poll();
            if (next != null) {
                found = next.client();
            }
        }
        stale.forEach(RelayClient::close);
        return found;
    }

    /** Open sessions kept idle now, over all domains (tests). */
    int idleSessions() {
        return idle.values().stream().mapToInt(q -> {
            synchronized (q) {
                return q.size();
            }
        }).sum();
    }

    @Override
    public void close() {
        for (Deque<Idle> q : idle.values()) {
            List<Idle> all;
            synchronized (q) {
                all = new ArrayList<>(q);
                q.clear();
            }
            all.forEach(i -> i.client().close());
        }
    }
}
