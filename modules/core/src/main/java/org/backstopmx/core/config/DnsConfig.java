package org.backstopmx.core.config;

import java.time.Duration;

/** {@code dns.server} (default: the system resolver, null) and {@code dns.timeout} (default 5s). */
public record DnsConfig(HostPort server, Duration timeout) {
    public static DnsConfig defaults() {
        return new DnsConfig(null, Duration.ofSeconds(5));
    }
}
