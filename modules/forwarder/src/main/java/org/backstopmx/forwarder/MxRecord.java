package org.backstopmx.forwarder;

import java.util.Objects;

/**
 * One MX record.
 *
 * @param preference the MX preference (lower is tried first)
 * @param host       the exchange, lower case, without the trailing dot; never the root (a null MX is {@link MxAnswer.NullMx})
 * @param ttlSeconds the TTL the server gave
 */
public record MxRecord(int preference, String host, long ttlSeconds) {
    public MxRecord {
        if (preference < 0 || preference > 65535) {
            throw new IllegalArgumentException("MX preference out of range: " + preference);
        }
        host = DomainNames.normalize(Objects.requireNonNull(host, "host"));
        if (host.isEmpty()) {
            throw new IllegalArgumentException("the root is a null MX, not an MX host");
        }
    }

    public static MxRecord of(int preference, String host) {
        return new MxRecord(preference, host, 300);
    }
}
