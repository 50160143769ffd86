package org.backstopmx.forwarder.delivery;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.backstopmx.core.Liveness;
import org.backstopmx.core.Standby;
import org.backstopmx.core.config.AcceptMode;
import org.backstopmx.core.config.DomainConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Standby mode ({@code domains.<name>.accept: when-primary-down}): probes the primary of each such domain every
 * {@code probe.interval}, up or down (connect, EHLO, QUIT), and decides whether Backstop takes the domain's mail
 * ({@link Standby}, read by SMTP in at RCPT time). The decision has hysteresis both ways, counted on probes alone
 * (never on deliveries, whose failures {@link DownDestinations} judges on its own): a domain left to its primary is
 * taken once {@code accept.down-after} probes in a row found nobody, and left to it again once as many probes in a
 * row were answered, so a primary that answers every other probe does not flip it. Every change is a WARN or INFO
 * line and the {@code backstop_domain_accepting} gauge.
 *
 * <p>Moves no recipient state. A probe that answers also tells {@link DownDestinations} (a destination marked down
 * is then up, and flushed), as any session that opens does. A failure of our own in a probe counts as no answer and
 * is reported to the probe loop of {@link Liveness}.
 *
 * <p>Thread-safe. State is in memory only: at start (and for a domain added by a reload) the primary is presumed up,
 * so the domain is refused, and probed at once; with the primary down, mail is taken after {@code accept.down-after}
 * probes, about that many intervals. A refusal is a 450: the sender's MTA keeps the mail and tries again.
 */
final class PrimaryWatch implements Standby {
    private static final Logger LOG = LoggerFactory.getLogger(PrimaryWatch.class);

    /**
     * One domain in standby mode.
     *
     * @param accepting whether Backstop takes its mail now
     * @param streak    probes in a row that went against {@code accepting} (answered while accepting, unanswered
     *                  while refusing)
     * @param host      the host that answered last, or null before any answered
     * @param nextProbe when its primary is probed next
     */
    record Watched(boolean accepting, int streak, String host, Instant nextProbe) {
        /** After a probe that {@code answered} (by {@code host}, or null), with {@code needed} probes to change. */
        Watched after(boolean answered, String answeredBy, int needed, Instant next) {
            String h = answered ? answeredBy : host;
            boolean against = answered == accepting; // an answer while taking mail, silence while refusing it
            if (!against) {
                return new Watched(accepting, 0, h, next);
            }
            if (streak + 1 >= needed) {
                return new Watched(!accepting, 0, h, next);
            }
            return new Watched(accepting, streak + 1, h, next);
        }
    }

    /** Told about every change of a domain's acceptance, for metrics. */
    interface Listener {
        void accepting(String domain, boolean accepting);
    }

    private final Map<String, Watched> watched = new ConcurrentHashMap<>();
    private final ProbeClaims probing;
    private final Duration interval;
    private final int downAfter;
    private final Connector connector;
    private final DownDestinations down;
    private final Clock clock;
    private final Listener listener;
    private volatile Liveness.Loop probeLoop;

    /**
     * @param downAfter {@code accept.down-after}: probes in a row needed to change a domain's acceptance, either way
     * @param probes    where probes run (the delivery pool)
     */
    PrimaryWatch(Duration interval, int downAfter, Connector connector, DownDestinations down, Executor probes,
            Listener listener, Clock clock) {
        if (downAfter < 1) {
            throw new IllegalArgumentException("accept.down-after must be positive: " + downAfter);
        }
        this.interval = interval;
        this.downAfter = downAfter;
        this.connector = connector;
        this.down = down;
        this.probing = new ProbeClaims(probes);
        this.listener = listener;
        this.clock = clock;
        this.probeLoop = new Liveness(clock).register("backstop-probe", null);
    }

    /** Where probe failures of our own are reported from now on. */
    void watch(Liveness.Loop loop) {
        this.probeLoop = loop;
    }

    /**
     * The served domains (at start and at each reload): those in standby mode are watched from now on, a new one
     * refused and probed at once; a domain that keeps its mode keeps its state; the others are taken always.
     */
    void domains(Map<String, DomainConfig> domains) {
        Instant now = clock.instant();
        domains.forEach((name, d) -> {
            if (d.accept() == AcceptMode.WHEN_PRIMARY_DOWN) {
                if (watched.putIfAbsent(name, new Watched(false, 0, null, now)) == null) {
                    LOG.info("standby: {} is taken only while its primary is down ({} probes in a row, every {})",
                            name, downAfter, interval);
                }
                listener.accepting(name, watched.get(name).accepting());
            } else {
                watched.remove(name);
                listener.accepting(name, true);
            }
        });
        watched.keySet().removeIf(name -> !domains.containsKey(name));
    }

    @Override
    public Optional<String> standingBy(String domain) {
        Watched w = watched.get(domain);
        if (w == null || w.accepting()) {
            return Optional.empty();
        }
        return Optional.of(w.host() != null ? w.host() : domain);
    }

    /** Probes, in the pool, every watched primary whose probe is due and not already running. */
    void probeDue() {
        probing.runInPool(probing.claim(watched, Watched::nextProbe, clock.instant()), this::probe);
    }

    /** Probes, in this thread, every watched primary whose probe is due. For tests. */
    void probeNow() {
        probing.claim(watched, Watched::nextProbe, clock.instant()).forEach(this::probe);
    }

    /** When the earliest probe is due, if any domain is watched. */
    Optional<Instant> nextProbe() {
        return watched.values().stream().map(Watched::nextProbe).min(Instant::compareTo);
    }

    private void probe(String domain) {
        try {
            Connector.Knock knock;
            try {
                knock = connector.knock(domain);
                probeLoop.succeeded();
            } catch (RuntimeException | Error e) {
                probeLoop.failed("standby probe of " + domain, e);
                record(domain, false, null, e.toString());
                return;
            }
            if (knock.answered()) {
                down.answered(domain);
            }
            record(domain, knock.answered(), knock.host(),
                    knock.answered() ? null : knock.failure().describe());
        } finally {
            probing.done(domain);
        }
    }

    private void record(String domain, boolean answered, String host, String why) {
        Instant next = clock.instant().plus(interval);
        Watched[] change = new Watched[2];
        watched.computeIfPresent(domain, (k, w) -> {
            Watched after = w.after(answered, host, downAfter, next);
            change[0] = w;
            change[1] = after;
            return after;
        });
        if (change[0] == null || change[0].accepting() == change[1].accepting()) {
            return;
        }
        if (change[1].accepting()) {
            LOG.warn("standby: the primary of {} did not answer {} probes in a row ({}); its mail is taken now",
                    domain, downAfter, why);
        } else {
            LOG.info("standby: the primary of {} ({}) answered {} probes in a row; its mail is left to it again"
                    + " (RCPT gets 450 4.7.1)", domain, change[1].host(), downAfter);
        }
        listener.accepting(domain, change[1].accepting());
    }
}
