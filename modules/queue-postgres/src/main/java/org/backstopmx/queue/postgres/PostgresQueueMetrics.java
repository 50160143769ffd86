package org.backstopmx.queue.postgres;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.backstopmx.core.Metrics;

/**
 * The shared queue's gauges ({@link Metrics}), on each node: messages and bytes count the whole queue, every node's
 * mail (the same figure on every node: sum nothing across nodes), read by one aggregate query per scrape; writability
 * and the pool's connections in use are this node's. XXX: the per-domain gauges of the H2 queue (recipients by state,
 * oldest message, mail about to expire) are not here yet.
 */
public final class PostgresQueueMetrics {
    private PostgresQueueMetrics() {
    }

    public static void bind(PostgresMailQueue queue, MeterRegistry registry) {
        Gauge.builder(Metrics.QUEUE_MESSAGES, queue, q -> q.stats().messages())
                .description("Messages in the queue; on a queue shared by several nodes, all of them (cluster-wide)")
                .register(registry);
        Gauge.builder(Metrics.QUEUE_BYTES, queue, q -> q.stats().bytes()).baseUnit("bytes")
                .description("Bytes of message bodies in the queue; on a shared queue, cluster-wide")
                .register(registry);
        Gauge.builder(Metrics.QUEUE_WRITABLE, queue, q -> q.whyNotWritable().isEmpty() ? 1 : 0)
                .description("1 while this node's queue takes mail; 0 while it is closed or its database cannot be"
                        + " reached").register(registry);
        Gauge.builder(Metrics.QUEUE_DB_CONNECTIONS, queue, PostgresMailQueue::activeDatabaseConnections)
                .description("Connections of this node's pool to the queue database in use").register(registry);
    }
}
