package org.backstopmx.forwarder;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.backstopmx.core.Metrics;

/**
 * Counts the answers of another {@link MxResolver} by kind ({@link Metrics#DNS_LOOKUPS}, tag {@code result}: ok,
 * nodata, nxdomain, nullmx, temporary), MX and address lookups alike. Cached answers count too: the metric says what
 * the forwarder was told, not what went over the wire.
 */
public final class CountingMxResolver implements MxResolver {
    private final MxResolver delegate;
    private final Map<String, Counter> results = new HashMap<>();

    public CountingMxResolver(MxResolver delegate, MeterRegistry registry) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        for (String r : new String[] {"ok", "nodata", "nxdomain", "nullmx", "temporary"}) {
            results.put(r, Counter.builder(Metrics.DNS_LOOKUPS).tag("result", r)
                    .description("DNS answers for route lookups (MX and A/AAAA) by kind").register(registry));
        }
    }

    @Override
    public MxAnswer mx(String domain) {
        MxAnswer a = delegate.mx(domain);
        String kind;
        if (a instanceof MxAnswer.Records) {
            kind = "ok";
        } else if (a instanceof MxAnswer.NoRecords) {
            kind = "nodata";
        } else if (a instanceof MxAnswer.NullMx) {
            kind = "nullmx";
        } else if (a instanceof MxAnswer.NxDomain) {
            kind = "nxdomain";
        } else {
            kind = "temporary";
        }
        results.get(kind).increment();
        return a;
    }

    @Override
    public AddressAnswer addresses(String host) {
        AddressAnswer a = delegate.addresses(host);
        String kind;
        if (a instanceof AddressAnswer.Addresses) {
            kind = "ok";
        } else if (a instanceof AddressAnswer.NoAddresses) {
            kind = "nodata";
        } else if (a instanceof AddressAnswer.NxDomain) {
            kind = "nxdomain";
        } else {
            kind = "temporary";
        }
        results.get(kind).increment();
        return a;
    }
}
