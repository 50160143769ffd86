package org.backstopmx.forwarder.delivery;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.backstopmx.core.MailExtension;
import org.backstopmx.core.PrimaryCapabilities;
import org.backstopmx.forwarder.smtp.EhloCapabilities;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What each served domain's primary offered in the EHLO of the last session opened to it (a delivery, a probe, an
 * ETRN check), for the capability rule at intake. Only served domains are kept (DSNs go to any domain). Held in
 * memory: after a restart nothing is known until the first session, and until then nothing is refused for it.
 * A change in what a primary offers is a log line. Thread-safe.
 */
final class LearnedCapabilities implements PrimaryCapabilities {
    private static final Logger LOG = LoggerFactory.getLogger(LearnedCapabilities.class);

    private final Map<String, EhloCapabilities> byDomain = new ConcurrentHashMap<>();

    /** A session to {@code domain}'s primary {@code host} completed EHLO (or HELO) with {@code offered}. */
    void learned(String domain, String host, EhloCapabilities offered) {
        EhloCapabilities before = byDomain.put(domain, offered);
        if (before == null || before.smtpUtf8() != offered.smtpUtf8() || before.eightBitMime() != offered.eightBitMime()
                || before.sizeLimit() != offered.sizeLimit()) {
            LOG.info("primary for {}: {} offers SMTPUTF8: {}, 8BITMIME: {}, SIZE: {}", domain, host,
                    offered.smtpUtf8() ? "yes" : "no", offered.eightBitMime() ? "yes" : "no",
                    offered.sizeLimit() > 0 ? offered.sizeLimit() : "no limit");
        }
    }

    @Override
    public boolean knownToLack(String domain, MailExtension extension) {
        EhloCapabilities offered = byDomain.get(domain);
        return offered != null && !offered.offers(extension);
    }

    @Override
    public long sizeLimit(String domain) {
        EhloCapabilities offered = byDomain.get(domain);
        return offered == null ? 0 : offered.sizeLimit();
    }
}
