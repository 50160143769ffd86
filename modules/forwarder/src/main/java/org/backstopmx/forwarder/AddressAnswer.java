package org.backstopmx.forwarder;

import java.net.InetAddress;
import java.util.List;
import java.util.Objects;

/** The answer to "what are the addresses (A and AAAA) of this host?". */
public sealed interface AddressAnswer {

    /**
     * One or more addresses: IPv4 first, then IPv6, each family in no particular order (which family to try first is
     * the SMTP client's choice). When one family failed temporarily and the other gave addresses, these are
     * the addresses that were found.
     */
    record Addresses(List<InetAddress> addresses) implements AddressAnswer {
        public Addresses {
            addresses = List.copyOf(addresses);
            if (addresses.isEmpty()) {
                throw new IllegalArgumentException("no addresses: that is NoAddresses");
            }
        }
    }

    /** The name exists but has neither A nor AAAA records (NODATA for both). */
    record NoAddresses() implements AddressAnswer {
    }

    /** The name does not exist (NXDOMAIN). */
    record NxDomain() implements AddressAnswer {
    }

    /** No usable answer this time: ask again later. */
    record TemporaryFailure(DnsFailure failure, String detail) implements AddressAnswer {
        public TemporaryFailure {
            Objects.requireNonNull(failure, "failure");
            Objects.requireNonNull(detail, "detail");
        }
    }
}
