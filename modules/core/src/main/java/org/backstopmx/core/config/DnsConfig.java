package org.backstopmx.core.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The DNS settings.
 *
 * @param server          {@code dns.server}: where lookups go; null (the default) for the system resolver
 * @param timeout         {@code dns.timeout} (default 5s)
 * @param trustAnchorFile {@code dns.trust-anchor-file}: DS or DNSKEY records in zone-file form (such as the root's in
 *                        Debian's {@code /usr/share/dns/root.key}) from which Backstop validates DNSSEC itself for
 *                        {@code tls: dane}; null (the default) for none
 * @param trustAd         {@code dns.trust-ad} (default false): take the AD bit of {@code dns.server} (a validating
 *                        resolver on this host) as DNSSEC's verdict instead
 */
public record DnsConfig(HostPort server, Duration timeout, Path trustAnchorFile, boolean trustAd) {
    /** Without DNSSEC validation. */
    public DnsConfig(HostPort server, Duration timeout) {
        this(server, timeout, null, false);
    }

    public static DnsConfig defaults() {
        return new DnsConfig(null, Duration.ofSeconds(5));
    }

    /** Whether DANE can be used: DNSSEC is validated here or trusted from the resolver. */
    public boolean validates() {
        return trustAnchorFile != null || trustAd;
    }
}
