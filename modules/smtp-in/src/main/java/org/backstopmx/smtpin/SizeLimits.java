package org.backstopmx.smtpin;

import java.util.Set;
import java.util.function.Supplier;
import org.backstopmx.core.PrimaryCapabilities;

/**
 * How large a message may be: {@code smtp.max-message-size}, lowered for a served domain to the SIZE its primary
 * advertised (RFC 1870), so that a message the primary would refuse for its size is refused at intake rather than
 * accepted and bounced. EHLO advertises the largest limit over the served domains; MAIL with a {@code SIZE=} above it
 * is refused, RCPT for a domain whose limit it exceeds is refused, and the end of the content checks the stored size
 * against every recipient's domain.
 */
final class SizeLimits {
    private final long configured;
    private final PrimaryCapabilities primaries;
    private final Supplier<Set<String>> servedDomains;

    /** @param servedDomains the served domains now (they follow reloads), lower case */
    SizeLimits(long configured, PrimaryCapabilities primaries, Supplier<Set<String>> servedDomains) {
        this.configured = configured;
        this.primaries = primaries;
        this.servedDomains = servedDomains;
    }

    /** {@code smtp.max-message-size}: no message is ever larger, whatever the primaries take. */
    long configured() {
        return configured;
    }

    /** The limit for mail to {@code domain}: ours, or its primary's when that is known and smaller. */
    long forDomain(String domain) {
        long primary = primaries.sizeLimit(domain);
        return primary > 0 ? Math.min(configured, primary) : configured;
    }

    /** The largest message some served domain takes: what EHLO advertises and what {@code SIZE=} is held to. */
    long largest() {
        Set<String> served = servedDomains.get();
        if (served.isEmpty()) {
            return configured;
        }
        long largest = 0;
        for (String domain : served) {
            largest = Math.max(largest, forDomain(domain));
        }
        return largest;
    }
}
