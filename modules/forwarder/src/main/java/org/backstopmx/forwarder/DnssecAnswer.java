package org.backstopmx.forwarder;

import java.util.List;
import java.util.Objects;
import org.backstopmx.forwarder.smtp.TlsaRecord;

/**
 * One answer looked up with DNSSEC validation ({@link DnssecLookup}).
 *
 * @param status  what DNSSEC said about it
 * @param tlsa    for a TLSA question, the records found (empty for NODATA, NXDOMAIN, or when not {@code SECURE} or
 *                {@code INSECURE}); always empty for MX
 * @param detail  one line for the log when the status is {@code BOGUS} or {@code FAILED}; else empty
 */
public record DnssecAnswer(DnssecStatus status, List<TlsaRecord> tlsa, String detail) {
    public DnssecAnswer {
        Objects.requireNonNull(status, "status");
        tlsa = List.copyOf(tlsa);
        Objects.requireNonNull(detail, "detail");
    }

    public static DnssecAnswer of(DnssecStatus status) {
        return new DnssecAnswer(status, List.of(), "");
    }

    public static DnssecAnswer failed(DnssecStatus status, String detail) {
        return new DnssecAnswer(status, List.of(), detail);
    }
}
