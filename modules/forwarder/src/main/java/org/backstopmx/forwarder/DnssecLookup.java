package org.backstopmx.forwarder;

/**
 * DNS lookups whose answers say whether DNSSEC vouches for them, for DANE (RFC 7672 §2.1, §2.2). Production:
 * {@link DnsjavaDnssecLookup}.
 *
 * <p>Guarantees: never throws for anything DNS does; every failure is a {@link DnssecStatus}. Thread-safe.
 */
public interface DnssecLookup {
    /** Nothing validates: every answer {@link DnssecStatus#FAILED} (no {@code dns.trust-anchor-file} or {@code dns.trust-ad}). */
    DnssecLookup NONE = new DnssecLookup() {
        @Override
        public DnssecAnswer mx(String domain) {
            return DnssecAnswer.failed(DnssecStatus.FAILED, "no DNSSEC validation configured");
        }

        @Override
        public DnssecAnswer tlsa(String host, int port) {
            return mx(host);
        }
    };

    /** Whether DNSSEC vouches for the MX answer of {@code domain}, whatever it holds (records, NODATA, NXDOMAIN). */
    DnssecAnswer mx(String domain);

    /** The TLSA records of {@code _port._tcp.host} (RFC 6698 §3) and whether DNSSEC vouches for them. */
    DnssecAnswer tlsa(String host, int port);
}
