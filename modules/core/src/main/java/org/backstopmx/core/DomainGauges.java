package org.backstopmx.core;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.backstopmx.core.config.QueueConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queue's per-domain gauges ({@link Metrics#QUEUE_RECIPIENTS}, {@link Metrics#QUEUE_OLDEST_AGE},
 * {@link Metrics#QUEUE_EXPIRING}), whichever queue feeds them: its figures are read every {@code refresh} on a thread
 * of their own, never on the scrape path nor on the paths that accept or claim mail, and a scrape reads the last
 * ones. Domains that are not served (bounce destinations) are summed as {@link Metrics#OTHER}.
 *
 * <p>A refresh that fails in any way (an {@link Error} included) leaves the last figures, is reported to
 * {@link Liveness} ({@code queue-metrics}, logged once per run of failures), and the next one comes at its time: an
 * exception out of the periodic task would cancel every later refresh, silently. {@link #close()} does not interrupt
 * a refresh running in the database; it waits for it.
 */
public final class DomainGauges implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DomainGauges.class);

    /**
     * What a queue says per domain.
     *
     * @param recipients    pending recipients (QUEUED, DEFERRED, HELD) by domain and state
     * @param oldestPending when the oldest message with a pending recipient of the domain was received
     * @param expiring      due recipients (QUEUED, DEFERRED) of messages received at or before the instant asked for
     */
    public record Figures(Map<String, Map<RecipientState, Long>> recipients, Map<String, Instant> oldestPending,
            Map<String, Long> expiring) {
    }

    private final Function<Instant, Figures> figures;
    private final Set<String> served;
    private final Clock clock;
    /** {@code queue.expiry-warning} minus {@code queue.lifetime}: received before now plus this expires in time. */
    private final Duration expiringReceivedWithin;
    private final Map<String, Map<RecipientState, AtomicLong>> recipients = new HashMap<>();
    private final Map<String, AtomicLong> oldest = new HashMap<>();
    private final Map<String, AtomicLong> expiring = new HashMap<>();
    private final ScheduledExecutorService refresher;
    private Liveness.Loop loop;

    private DomainGauges(Function<Instant, Figures> figures, MeterRegistry registry, Set<String> servedDomains,
            Clock clock, QueueConfig config, String scope) {
        this.figures = figures;
        this.served = Set.copyOf(servedDomains);
        this.clock = clock;
        this.expiringReceivedWithin = config.expiryWarning().minus(config.lifetime());
        List<String> domains = new ArrayList<>(served);
        domains.add(Metrics.OTHER);
        for (String d : domains) {
            Map<RecipientState, AtomicLong> byState = new EnumMap<>(RecipientState.class);
            for (RecipientState state : RecipientState.values()) {
                if (state.isFinal()) {
                    continue; // a finished message leaves the queue: final states are never held for long
                }
                AtomicLong value = new AtomicLong();
                byState.put(state, value);
                Gauge.builder(Metrics.QUEUE_RECIPIENTS, value, AtomicLong::get).tag("domain", d)
                        .tag("state", state.name().toLowerCase(Locale.ROOT))
                        .description("Recipients in the queue by state and domain" + scope).register(registry);
            }
            recipients.put(d, byState);
            AtomicLong age = new AtomicLong();
            oldest.put(d, age);
            Gauge.builder(Metrics.QUEUE_OLDEST_AGE, age, AtomicLong::get).tag("domain", d).baseUnit("seconds")
                    .description("Age of the oldest message with a recipient of the domain still pending; 0 when none"
                            + scope).register(registry);
            AtomicLong soon = new AtomicLong();
            expiring.put(d, soon);
            Gauge.builder(Metrics.QUEUE_EXPIRING, soon, AtomicLong::get).tag("domain", d)
                    .description("Recipients still to be tried that expire within queue.expiry-warning" + scope)
                    .register(registry);
        }
        this.refresher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "queue-metrics");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Registers the gauges, reads the figures once, and then every {@code refresh}, beating in {@code liveness}.
     *
     * @param figures the queue's figures, with the latest receipt time whose due recipients count as expiring
     * @param scope   added to each gauge's description: what the figures cover (empty for this node's own queue)
     */
    public static DomainGauges start(Function<Instant, Figures> figures, MeterRegistry registry,
            Set<String> servedDomains, Clock clock, Duration refresh, Liveness liveness, QueueConfig config,
            String scope) {
        DomainGauges g = new DomainGauges(figures, registry, servedDomains, clock, config, scope);
        g.refresh();
        // a refresh takes about a second at a million recipients; beyond a few minutes it is stuck
        g.loop = liveness.register("queue-metrics", refresh.plus(Duration.ofMinutes(5)));
        g.refresher.scheduleWithFixedDelay(g::refreshQuietly, refresh.toMillis(), refresh.toMillis(),
                TimeUnit.MILLISECONDS);
        return g;
    }

    /** Reads the per-domain figures now. */
    public void refresh() {
        Instant now = clock.instant();
        Figures snapshot = figures.apply(now.plus(expiringReceivedWithin));
        Map<String, Map<RecipientState, Long>> sums = new HashMap<>();
        snapshot.recipients().forEach((domain, byState) -> byState.forEach((state, n) -> sums
                .computeIfAbsent(tag(domain), k -> new EnumMap<>(RecipientState.class)).merge(state, n, Long::sum)));
        recipients.forEach((domain, byState) -> byState.forEach((state, value) ->
                value.set(sums.getOrDefault(domain, Map.of()).getOrDefault(state, 0L))));
        Map<String, Instant> first = new HashMap<>();
        snapshot.oldestPending().forEach((domain, at) -> first.merge(tag(domain), at,
                (a, b) -> a.isBefore(b) ? a : b));
        oldest.forEach((domain, value) -> {
            Instant at = first.get(domain);
            value.set(at == null ? 0 : Math.max(0, Duration.between(at, now).getSeconds()));
        });
        Map<String, Long> soon = new HashMap<>();
        snapshot.expiring().forEach((domain, n) -> soon.merge(tag(domain), n, Long::sum));
        expiring.forEach((domain, value) -> value.set(soon.getOrDefault(domain, 0L)));
    }

    /** The timer's task: never lets anything out, which would cancel every later refresh. */
    private void refreshQuietly() {
        loop.beat();
        try {
            refresh(); // while the queue takes no mail too: that is when its figures are watched
            loop.succeeded();
        } catch (Throwable t) {
            loop.failed("refreshing the per-domain queue gauges (they keep their last values)", t);
        }
    }

    private String tag(String domain) {
        return served.contains(domain) ? domain : Metrics.OTHER;
    }

    /** Stops the refresher, after the refresh under way if any: interrupting it could close a database under it. */
    @Override
    public void close() {
        refresher.shutdown();
        try {
            if (!refresher.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("queue metrics: a refresh still runs after 30 s; the queue waits for it as it closes");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        loop.stopped();
    }
}
