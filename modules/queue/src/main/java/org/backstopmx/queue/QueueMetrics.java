package org.backstopmx.queue;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.function.Function;
import org.backstopmx.core.DomainGauges;
import org.backstopmx.core.Liveness;
import org.backstopmx.core.Metrics;
import org.backstopmx.core.config.QueueConfig;

/**
 * The queue's gauges ({@link Metrics}). Messages, bytes and writability come from the counters the queue keeps as it
 * goes, so a scrape costs nothing; recipients by state and domain, the oldest pending message per domain and the
 * recipients about to expire per domain (within {@code queue.expiry-warning}) are {@link DomainGauges}, read from a
 * grouped query run every {@code refresh} on a thread of their own, never on the scrape path (a queue of a million
 * recipients takes about a second to group; the scrape reads the last result). See {@link DomainGauges} for what a
 * failed refresh does.
 */
public final class QueueMetrics implements AutoCloseable {
    private final DomainGauges domains;

    private QueueMetrics(DomainGauges domains) {
        this.domains = domains;
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
        Function<Instant, DomainGauges.Figures> figures = at -> {
            H2MailQueue.DomainSnapshot s = snapshots.apply(at);
            return new DomainGauges.Figures(s.recipients(), s.oldestPending(), s.expiring());
        };
        return new QueueMetrics(DomainGauges.start(figures, registry, servedDomains, clock, refresh, liveness, config,
                ""));
    }

    /** Reads the per-domain figures now. */
    public void refresh() {
        domains.refresh();
    }

    /** Stops the refresher, after the refresh under way if any: interrupting it could close H2's file under it. */
    @Override
    public void close() {
        domains.close();
    }
}
