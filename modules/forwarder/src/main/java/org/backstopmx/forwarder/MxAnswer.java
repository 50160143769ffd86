package org.backstopmx.forwarder;

import java.util.List;
import java.util.Objects;

/** The answer to "what are the MX records of this domain?". */
public sealed interface MxAnswer {

    /**
     * One or more MX records, in the order the server sent them. A null MX record ({@code 0 .}) that a domain mixes
     * with real ones, against RFC 7505 §3, is left out here: the real ones are used.
     */
    record Records(List<MxRecord> records) implements MxAnswer {
        public Records {
            records = List.copyOf(records);
            if (records.isEmpty()) {
                throw new IllegalArgumentException("no records: that is NoRecords");
            }
        }

        public static Records of(MxRecord... records) {
            return new Records(List.of(records));
        }
    }

    /** The domain exists but has no MX records (NODATA): its A/AAAA records are the implicit MX (RFC 5321 §5.1). */
    record NoRecords() implements MxAnswer {
    }

    /** The domain publishes a null MX ({@code MX 0 .}, RFC 7505): it accepts no mail. */
    record NullMx() implements MxAnswer {
    }

    /** The domain does not exist (NXDOMAIN). */
    record NxDomain() implements MxAnswer {
    }

    /** No usable answer this time: ask again later. */
    record TemporaryFailure(DnsFailure failure, String detail) implements MxAnswer {
        public TemporaryFailure {
            Objects.requireNonNull(failure, "failure");
            Objects.requireNonNull(detail, "detail");
        }
    }
}
