package org.backstopmx.smtpin;

import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.backstopmx.core.Metrics.ScreenCheck;
import org.backstopmx.core.Metrics.ScreenResult;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.core.config.RateConfig;
import org.backstopmx.core.config.ScreenConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-client rate limits of {@code screen.rate.*} (Postfix's anvil): connections and messages a minute from one
 * address and from its network (the /24 of an IPv4 address, the /64 of an IPv6 one). A connection over a limit gets
 * {@code 421 4.7.0} ({@link RateLimitHandler}), a MAIL over one {@code 452 4.7.1} ({@link BackstopMailCmdHandler}).
 * Only what is let through is counted, so a client told to slow down is admitted again as soon as its window closes,
 * however hard it keeps knocking; one client of a network cannot use up its network's allowance with refused
 * attempts. Clients in {@code screen.trusted} are neither limited nor counted.
 *
 * <p>Counts are kept per key in one-minute windows, in an access-ordered map of at most {@link #capacity} windows:
 * a flood from ever new addresses pushes out the windows used least recently, never grows the heap.
 * XXX a flood from more than {@code capacity} keys within a minute forgets the counts of the quietest of them, which
 * then start again from zero; the network window of a flood's /24 is touched by each of its connections and stays.
 *
 * <p>Each key's first refusal in a window is logged, the others only counted: a flood does not flood the log. Each
 * check is counted in {@code backstop.screen.decisions{check="rate"}}: {@code passed}, {@code connections} or
 * {@code messages}. Thread-safe: called from the I/O loops and the worker threads.
 */
final class ClientRates {
    private static final Logger LOG = LoggerFactory.getLogger(ClientRates.class);
    /** How long one window counts. */
    static final Duration WINDOW = Duration.ofMinutes(1);
    /** The default bound on windows kept: a window is about 100 bytes, so this is some 6 MiB at most. */
    static final int CAPACITY = 65_536;

    private final RateConfig limits;
    private final ClientTrust trust;
    private final Clock clock;
    private final SmtpMetrics metrics;
    private final int capacity;
    /** Access-ordered; guarded by itself. */
    private final LinkedHashMap<Key, Window> windows;

    /** What is counted: the kind of event, for one address or one network. */
    private enum Kind {
        CONNECTIONS_PER_CLIENT("connections-per-client"),
        CONNECTIONS_PER_NETWORK("connections-per-network"),
        MESSAGES_PER_CLIENT("messages-per-client"),
        MESSAGES_PER_NETWORK("messages-per-network");

        final String key;

        Kind(String setting) {
            this.key = "screen.rate." + setting;
        }
    }

    /** One address or network, as up to 128 bits; {@code v6} keeps an IPv4 address apart from {@code ::a.b.c.d}. */
    private record Key(Kind kind, boolean v6, long high, long low) {
    }

    private static final class Window {
        long start;
        int count;
        boolean logged;
    }

    /** @return null when {@code screen.rate.*} limits nothing */
    static ClientRates create(ScreenConfig screen, ClientTrust trust, Clock clock, SmtpMetrics metrics) {
        return create(screen, trust, clock, metrics, CAPACITY);
    }

    static ClientRates create(ScreenConfig screen, Clock clock, SmtpMetrics metrics, int capacity) {
        return create(screen, ClientTrust.of(screen), clock, metrics, capacity);
    }

    /** @param trust who is neither limited nor counted */
    static ClientRates create(ScreenConfig screen, ClientTrust trust, Clock clock, SmtpMetrics metrics, int capacity) {
        RateConfig r = screen.rate();
        return r.limitsConnections() || r.limitsMessages() ? new ClientRates(screen, trust, clock, metrics, capacity)
                : null;
    }

    private ClientRates(ScreenConfig screen, ClientTrust trust, Clock clock, SmtpMetrics metrics, int capacity) {
        this.limits = screen.rate();
        this.trust = trust;
        this.clock = clock;
        this.metrics = metrics;
        this.capacity = capacity;
        this.windows = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, Window> eldest) {
                return size() > ClientRates.this.capacity;
            }
        };
    }

    /** Whether connections are limited; when not, {@link #connection} need not be asked. */
    boolean limitsConnections() {
        return limits.limitsConnections();
    }

    /** Counts a connection from {@code client}: null when it may go on, else the {@code 421 4.7.0} to close it with. */
    SmtpReply connection(InetAddress client) {
        if (!limits.limitsConnections() || trust.trusts(client)) {
            return null;
        }
        Kind over = count(client, Kind.CONNECTIONS_PER_CLIENT, limits.connectionsPerClient(),
                Kind.CONNECTIONS_PER_NETWORK, limits.connectionsPerNetwork());
        metrics.screened(ScreenCheck.RATE, over == null ? ScreenResult.PASSED : ScreenResult.CONNECTIONS);
        return over == null ? null : Replies.RATE_CONNECTIONS;
    }

    /** Counts a message (a MAIL) from {@code client}: null when it may go on, else the {@code 452 4.7.1} for it. */
    SmtpReply message(InetAddress client) {
        if (!limits.limitsMessages() || trust.trusts(client)) {
            return null;
        }
        Kind over = count(client, Kind.MESSAGES_PER_CLIENT, limits.messagesPerClient(),
                Kind.MESSAGES_PER_NETWORK, limits.messagesPerNetwork());
        metrics.screened(ScreenCheck.RATE, over == null ? ScreenResult.PASSED : ScreenResult.MESSAGES);
        return over == null ? null : Replies.RATE_MESSAGES;
    }

    /** Windows kept now; never more than the capacity. */
    int tracked() {
        synchronized (windows) {
            return windows.size();
        }
    }

    /**
     * Counts one event against both limits (0: not counted) if neither is reached.
     *
     * @return the limit reached, or null when the event was counted
     */
    private Kind count(InetAddress client, Kind perClient, int clientLimit, Kind perNetwork, int networkLimit) {
        long now = clock.millis();
        Kind over = null;
        int limit = 0;
        synchronized (windows) {
            Window c = clientLimit > 0 ? window(key(perClient, client, false), now) : null;
            Window n = networkLimit > 0 ? window(key(perNetwork, client, true), now) : null;
            Window full = null;
            if (c != null && c.count >= clientLimit) {
                over = perClient;
                limit = clientLimit;
                full = c;
            } else if (n != null && n.count >= networkLimit) {
                over = perNetwork;
                limit = networkLimit;
                full = n;
            }
            if (full == null) {
                if (c != null) {
                    c.count++;
                }
                if (n != null) {
                    n.count++;
                }
                return null;
            }
            if (full.logged) {
                return over;
            }
            full.logged = true;
        }
        SmtpReply reply = over == Kind.CONNECTIONS_PER_CLIENT || over == Kind.CONNECTIONS_PER_NETWORK
                ? Replies.RATE_CONNECTIONS : Replies.RATE_MESSAGES;
        LOG.info("rate: [{}] over {} ({} a minute), answered {} {}", client.getHostAddress(), over.key, limit,
                reply.code(), reply.enhanced());
        return over;
    }

    /** The window of {@code key} open at {@code now}, opened afresh when the last one has closed. */
    private Window window(Key key, long now) {
        Window w = windows.get(key);
        if (w == null) {
            w = new Window();
            w.start = now;
            windows.put(key, w);
        } else if (now - w.start >= WINDOW.toMillis() || now < w.start) {
            w.start = now;
            w.count = 0;
            w.logged = false;
        }
        return w;
    }

    /** The key of {@code client}'s address, or of its /24 (IPv4) or /64 (IPv6) for a network limit. */
    private static Key key(Kind kind, InetAddress client, boolean network) {
        byte[] a = client.getAddress();
        if (a.length == 4) {
            long v = (a[0] & 0xffL) << 24 | (a[1] & 0xffL) << 16 | (a[2] & 0xffL) << 8 | (a[3] & 0xffL);
            return new Key(kind, false, 0, network ? v & 0xffffff00L : v);
        }
        long high = 0;
        long low = 0;
        for (int i = 0; i < 8; i++) {
            high = high << 8 | (a[i] & 0xffL);
            low = low << 8 | (a[8 + i] & 0xffL);
        }
        return new Key(kind, true, high, network ? 0 : low);
    }
}
