/**
 * The appliance's metrics and health endpoints: {@code BackstopMetrics} owns the one Micrometer registry (Prometheus
 * flavour) in which every module declares its own meters; {@code MetricsServer} serves {@code /metrics},
 * {@code /health/live} and {@code /health/ready} on {@code metrics.listen}.
 *
 * <h2>States it may move</h2>
 * None: it only reads the queue's counters, the loops' liveness and the queue's writability.
 *
 * <h2>Failure modes</h2>
 * An address that cannot be bound is an {@code IOException} to the one starting the server. {@code /health/live}
 * answers 503 naming the loop that is stuck or cannot go on (the supervisor then restarts the process),
 * {@code /health/ready} 503 with the reason the queue takes no mail. Nothing here retries: the scraper and the
 * supervisor ask again.
 */
package org.backstopmx.app.metrics;
