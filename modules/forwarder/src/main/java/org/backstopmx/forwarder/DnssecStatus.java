package org.backstopmx.forwarder;

/** What DNSSEC said about one answer (RFC 4033 §5, RFC 4035 §4.3), as DANE needs to tell apart. */
public enum DnssecStatus {
    /** Validated from the trust anchor: records, or their proven absence (NODATA, NXDOMAIN). */
    SECURE,
    /** Provably not signed (no trust anchor above it, or a secure delegation to an unsigned zone). */
    INSECURE,
    /** Should have been signed and did not validate: forged, tampered with, expired signatures, missing keys. */
    BOGUS,
    /** No answer to judge: SERVFAIL without a DNSSEC reason, a timeout, a network error. */
    FAILED
}
