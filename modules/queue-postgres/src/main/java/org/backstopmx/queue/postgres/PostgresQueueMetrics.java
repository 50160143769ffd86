package org.backstopmx.queue.postgres;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import org.backstopmx.core.DomainGauges;
import org.backstopmx.core.Liveness;
import org.backstopmx.core.Metrics;
import org.backstopmx.core.config.QueueConfig;

/**
 * The shared queue's gauges ({@link Metrics}), on each node. Messages and bytes count the whole queue, every node's
 * mail (the same figure on every node: sum nothing across nodes), read by one aggregate query per scrape; writability
 * and the pool's connections in use are this node's. The per-domain gauges (recipients by state, oldest message, mail
 * about to expire) are cluster-wide too, as {@link DomainGauges}: one grouped query every {@code refresh} on a thread
 * of their own, never on a scrape nor on the paths that accept or claim mail.
 */
public final class PostgresQueueMetrics implements AutoCloseable {
    /** What the cluster-wide gauges' descriptions add. */
    static final String CLUSTER_WIDE = "; on a queue shared by several nodes, all of them (cluster-wide)";

    private final DomainGauges domains;

    private PostgresQueueMetrics(DomainGauges domains) {
        this.domains = domains;
    }

    /** Registers the gauges and starts refreshing the per-domain ones every {@code refresh}, beating in liveness. */
    public static PostgresQueueMetrics bind(PostgresMailQueue queue, MeterRegistry registry, Set<String> servedDomains,
            Clock clock, Duration refresh, Liveness liveness, QueueConfig config) {
        Gauge.builder(Metrics.QUEUE_MESSAGES, queue, q -> q.stats().messages())
                .description("Messages in the queue" + CLUSTER_WIDE).register(registry);
        Gauge.builder(Metrics.QUEUE_BYTES, queue, q -> q.stats().bytes()).baseUnit("bytes")
                .description("Bytes of message bodies in the queue" + CLUSTER_WIDE).register(registry);
        Gauge.builder(Metrics.QUEUE_WRITABLE, queue, q -> q.whyNotWritable().isEmpty() ? 1 : 0)
                .description("1 while this node's queue takes mail; 0 while it is closed or its database cannot be"
                        + " reached").register(registry);
        Gauge.builder(Metrics.QUEUE_DB_CONNECTIONS, queue, PostgresMailQueue::activeDatabaseConnections)
                .description("Connections of this node's pool to the queue database in use").register(registry);
        return new PostgresQueueMetrics(DomainGauges.start(queue::domainFigures, registry, servedDomains, clock,
                refresh, liveness, config, CLUSTER_WIDE));
    }

    /** Reads the per-domain figures now. */
    public void refresh() {
        domains.refresh();
    }

    @Override
    public void close() {
        domains.close();
    }
}
