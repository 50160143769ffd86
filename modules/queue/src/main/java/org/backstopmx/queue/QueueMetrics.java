package org.backstopmx.queue;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.backstopmx.core.Liveness;
import org.backstopmx.core.Metrics;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.config.QueueConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queue's gauges ({@link Metrics}). Messages, bytes and writability come from the counters the queue keeps as it
 * goes, so a scrape costs nothing; recipients by state and domain and the oldest pending message per domain come
 * and the recipients about to expire per domain (within {@code queue.expiry-warning}) come
 * from a grouped query run every {@code refresh} on a thread of their own, never on the scrape path (a queue of a
 * million recipients takes about a second to group; the scrape reads the last result).
 *
 * <p>Domains that are not served (bounce destinations) are summed as {@link Metrics#OTHER}.
 *
 * <p>A refresh that fails in any way (an {@link Error} included) leaves the last figures, is reported to
 * {@link Liveness} (logged once per run of failures), and the next one comes at its time: an exception out of the
 * periodic task would cancel every later refresh, silently. {@link #close()} does not interrupt a refresh running in
 * the database; it waits for it.
 */
public final class QueueMetrics implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(QueueMetrics.class);

    private final H2MailQueue queue;
    private final Function<Instant, H2MailQueue.DomainSnapshot> snapshots;
    private final Set<String> served;
    private final Clock clock;
    /** {@code queue.expiry-warning} minus {@code queue.lifetime}: received before now plus this expires in time. */
    private final Duration expiringReceivedWithin;
    private final Map<String, Map<RecipientState, AtomicLong>> recipients = new HashMap<>();
    private final Map<String, AtomicLong> oldest = new HashMap<>();
    private final Map<String, AtomicLong> expiring = new HashMap<>();
    private final ScheduledExecutorService refresher;
    private Liveness.Loop loop;

    private QueueMetrics(H2MailQueue queue, Function<Instant, H2MailQueue.DomainSnapshot> snapshots,
            MeterRegistry registry, Set<String> servedDomains, Clock clock, QueueConfig config) {
        this.queue = queue;
        this.snapshots = snapshots;
        this.served = Set.copyOf(servedDomains);
        this.clock = clock;
        this.expiringReceivedWithin = config.expiryWarning().minus(config.lifetime());
        Gauge.builder(Metrics.QUEUE_MESSAGES, queue, q -> q.stats().messages())
                .description("Messages in the queue").register(registry);
        Gauge.builder(Metrics.QUEUE_BYTES, queue, q -> q.stats().bytes()).baseUnit("bytes")
                .description("Bytes of message bodies in the queue").register(registry);
        Gauge.builder(Metrics.QUEUE_WRITABLE, queue, q -> q.whyNotWritable().isEmpty() ? 1 : 0)
                .description("1 while the queue takes mail; 0 while it is closed, its database is closed, its last"
                        + " group commit failed, or free space is below the reserve")
                .register(registry);
        Gauge.builder(Metrics.QUEUE_QUARANTINED, queue, H2MailQueue::quarantined)
                .description("Entries in the queue's quarantine/ directory: files it could not read, kept for the admin")
                .register(registry);
        Gauge.builder(Metrics.QUEUE_DB_CONNECTIONS, queue, H2MailQueue::activeDatabaseConnections)
                .description("Connections of the queue database's pool in use").register(registry);
        Gauge.builder(Metrics.QUEUE_DB_SIZE, queue, H2MailQueue::databaseFileSize).baseUnit("bytes")
                .description("Size of the queue database file (it shrinks at each compaction)").register(registry);
        java.util.List<String> domains = new java.util.ArrayList<>(served);
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
                        .description("Recipients in the queue by state and domain").register(registry);
            }
            recipients.put(d, byState);
            AtomicLong age = new AtomicLong();
            oldest.put(d, age);
            Gauge.builder(Metrics.QUEUE_OLDEST_AGE, age, AtomicLong::get).tag("domain", d).baseUnit("seconds")
                    .description("Age of the oldest message with a recipient of the domain still pending; 0 when none")
                    .register(registry);
            AtomicLong soon = new AtomicLong();
            expiring.put(d, soon);
            Gauge.builder(Metrics.QUEUE_EXPIRING, soon, AtomicLong::get).tag("domain", d)
                    .description("Recipients still to be tried that expire within queue.expiry-warning")
                    .register(registry);
        }
        this.refresher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "queue-metrics");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Registers the queue's gauges and starts refreshing the per-domain ones every {@code refresh}, with the default
     * {@code queue.lifetime} and {@code queue.expiry-warning}.
     */
    public static QueueMetrics bind(H2MailQueue queue, MeterRegistry registry, Set<String> servedDomains, Clock clock,
            Duration refresh) {
        return bind(queue, registry, servedDomains, clock, refresh, new Liveness(clock), QueueConfig.defaults());
    }

    /**
     * As {@link #bind(H2MailQueue, MeterRegistry, Set, Clock, Duration)}, the refresher beating in {@code liveness}
     * ({@code queue-metrics}), mail about to expire counted by {@code config}'s lifetime and expiry warning.
     */
    public static QueueMetrics bind(H2MailQueue queue, MeterRegistry registry, Set<String> servedDomains, Clock clock,
            Duration refresh, Liveness liveness, QueueConfig config) {
        return bind(queue, queue::domainSnapshot, registry, servedDomains, clock, refresh, liveness, config);
    }

    /** With the per-domain figures read from {@code snapshots} (tests put faults in its way). */
    static QueueMetrics bind(H2MailQueue queue, Function<Instant, H2MailQueue.DomainSnapshot> snapshots,
            MeterRegistry registry, Set<String> servedDomains, Clock clock, Duration refresh, Liveness liveness,
            QueueConfig config) {
        QueueMetrics m = new QueueMetrics(queue, snapshots, registry, servedDomains, clock, config);
        m.refresh();
        // a refresh takes about a second at a million recipients; beyond a few minutes it is stuck
        m.loop = liveness.register("queue-metrics", refresh.plus(Duration.ofMinutes(5)));
        m.refresher.scheduleWithFixedDelay(m::refreshQuietly, refresh.toMillis(), refresh.toMillis(),
                TimeUnit.MILLISECONDS);
        return m;
    }

    /** Reads the per-domain figures now. */
    public void refresh() {
        Instant now = clock.instant();
        H2MailQueue.DomainSnapshot snapshot = snapshots.apply(now.plus(expiringReceivedWithin));
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

    /** Stops the refresher, after the refresh under way if any: interrupting it could close H2's file under it. */
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
