package org.backstopmx.core.config;

/** {@code metrics.listen} (default 127.0.0.1:9465): where /metrics and the health endpoints are served. */
public record MetricsConfig(HostPort listen) {
    public static MetricsConfig defaults() {
        return new MetricsConfig(new HostPort("127.0.0.1", 9465));
    }
}
