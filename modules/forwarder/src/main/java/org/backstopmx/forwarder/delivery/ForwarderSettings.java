package org.backstopmx.forwarder.delivery;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.DeliveryConfig;
import org.backstopmx.core.config.TlsMode;
import org.backstopmx.forwarder.DnssecLookup;
import org.backstopmx.forwarder.smtp.RelaySettings;
import org.backstopmx.forwarder.smtp.SmtpTimeouts;
import org.backstopmx.forwarder.smtp.TlsPolicy;
import org.backstopmx.forwarder.smtp.TlsTrust;

/**
 * How the forwarder schedules and delivers, from the configuration ({@code delivery.*}, {@code probe.interval},
 * {@code hostname}).
 *
 * @param hostname            our name in EHLO, in a DSN's {@code Reporting-MTA} and its {@code From:}
 * @param concurrency         connections at most per destination (domain) at once
 * @param connectionReuseTime how long an idle connection is kept for the next message to the same destination
 * @param timeouts            the SMTP client's timeouts
 * @param tls                 the STARTTLS policy for domains without their own
 * @param domainTls           per-domain STARTTLS policies, keyed by lower-case domain
 * @param delayWarning        after how long in the queue a sender gets a "delayed" notice; zero means never
 * @param bounceSizeLimit     the largest original returned whole in a bounce ({@code RET=FULL}); larger: headers only
 * @param probeInterval       how often a destination marked down is probed
 * @param leaseTime           how long a claimed recipient stays invisible to other claims; the forwarder renews
 *                            the leases it holds every third of it, so an attempt may last longer
 * @param maxInFlight         recipients claimed and not yet recorded, at most (bounds memory and lease age)
 * @param leaseBatch          recipients claimed at most per queue round trip
 * @param tlsTrust            the CAs for {@code verify} ({@code delivery.tls-ca-file} or the JDK's) without pins
 * @param domainPins          per-domain {@code tls-fingerprints}, keyed by lower-case domain
 * @param dnssec              the validated lookups of {@code tls: dane} ({@link DnssecLookup#NONE} without
 *                            {@code dns.trust-anchor-file} or {@code dns.trust-ad})
 * @param bounceOnlySpfPass   {@code screen.bounce-only-spf-pass}: DSNs only to senders that passed SPF at intake
 *                            ({@link BackscatterGuard}); senders that failed never get one
 */
public record ForwarderSettings(
        String hostname,
        int concurrency,
        Duration connectionReuseTime,
        SmtpTimeouts timeouts,
        TlsPolicy tls,
        Map<String, TlsPolicy> domainTls,
        Duration delayWarning,
        long bounceSizeLimit,
        Duration probeInterval,
        Duration leaseTime,
        int maxInFlight,
        int leaseBatch,
        TlsTrust tlsTrust,
        Map<String, List<String>> domainPins,
        DnssecLookup dnssec,
        boolean bounceOnlySpfPass) {

    /** The JDK's trust store and no pins. */
    public ForwarderSettings(String hostname, int concurrency, Duration connectionReuseTime, SmtpTimeouts timeouts,
            TlsPolicy tls, Map<String, TlsPolicy> domainTls, Duration delayWarning, long bounceSizeLimit,
            Duration probeInterval, Duration leaseTime, int maxInFlight, int leaseBatch) {
        this(hostname, concurrency, connectionReuseTime, timeouts, tls, domainTls, delayWarning, bounceSizeLimit,
                probeInterval, leaseTime, maxInFlight, leaseBatch, TlsTrust.DEFAULT, Map.of(), DnssecLookup.NONE, false);
    }

    /** Postfix's {@code default_destination_concurrency_limit}. */
    public static final int DEFAULT_CONCURRENCY = 20;
    /** The shortest lease: jobs may wait behind others for their destination, and start only with time to spare. */
    static final Duration MIN_LEASE = Duration.ofMinutes(15);

    public ForwarderSettings {
        Objects.requireNonNull(hostname, "hostname");
        Objects.requireNonNull(connectionReuseTime, "connectionReuseTime");
        Objects.requireNonNull(timeouts, "timeouts");
        Objects.requireNonNull(tls, "tls");
        domainTls = Map.copyOf(domainTls);
        Objects.requireNonNull(tlsTrust, "tlsTrust");
        domainPins = Map.copyOf(domainPins);
        Objects.requireNonNull(dnssec, "dnssec");
        Objects.requireNonNull(delayWarning, "delayWarning");
        Objects.requireNonNull(probeInterval, "probeInterval");
        Objects.requireNonNull(leaseTime, "leaseTime");
        if (concurrency < 1 || maxInFlight < 1 || leaseBatch < 1) {
            throw new IllegalArgumentException("concurrency, maxInFlight and leaseBatch must be positive");
        }
        if (probeInterval.isNegative() || probeInterval.isZero() || leaseTime.isNegative() || leaseTime.isZero()) {
            throw new IllegalArgumentException("probe interval and lease time must be positive");
        }
    }

    /**
     * The lease a claim gets on the H2 queue: twice the longest attempt (connect, greeting, envelope, data, final dot),
     * at least {@link #MIN_LEASE}. The renewals would keep a shorter one too; a long one makes them rare, and one
     * process holds the queue, so nobody waits for a lease to run out.
     */
    public static Duration leaseTimeFor(SmtpTimeouts t) {
        Duration attempt = t.connect().plus(t.greeting()).plus(t.command()).plus(t.mail()).plus(t.rcpt())
                .plus(t.data()).plus(t.dot());
        // never short: a restart releases every lease at once, so a long lease costs nothing after a crash
        return max(attempt.multipliedBy(2), MIN_LEASE);
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    /** From the configuration: {@code hostname}, {@code delivery.*}, {@code domains.<name>.tls}, {@code probe.interval}. */
    public static ForwarderSettings from(BackstopConfig config) {
        DeliveryConfig d = config.delivery();
        SmtpTimeouts t = new SmtpTimeouts(d.connectTimeout(), d.commandTimeout(), d.commandTimeout(),
                d.commandTimeout(), d.commandTimeout(), d.dataTimeout(), d.dataTimeout(), d.dataTimeout());
        Map<String, TlsPolicy> perDomain = new java.util.HashMap<>();
        Map<String, List<String>> pins = new java.util.HashMap<>();
        config.domains().forEach((name, domain) -> {
            perDomain.put(name, policy(config.tlsFor(name)));
            pins.put(name, domain.tlsFingerprints());
        });
        return new ForwarderSettings(config.hostname(), d.concurrency(), d.connectionReuseTime(), t,
                policy(d.tls()), perDomain, d.delayWarning(), d.bounceSizeLimit(), config.probe().interval(),
                leaseTime(config, t), 1000, 200, trust(d.tlsCaFile()), pins, DnssecLookup.NONE,
                config.screen().bounceOnlySpfPass());
    }

    /**
     * On the queue shared by several nodes, {@code queue.lease-time}: another node takes a recipient claimed by a node
     * that died after it (the renewals keep the leases of a live node); on the H2 queue, a long lease costs nothing
     * (see {@link #leaseTimeFor}).
     */
    private static Duration leaseTime(BackstopConfig config, SmtpTimeouts t) {
        return config.queue().type() == org.backstopmx.core.config.QueueType.POSTGRESQL ? config.queue().leaseTime()
                : leaseTimeFor(t);
    }

    private static TlsTrust trust(Path caFile) {
        if (caFile == null) {
            return TlsTrust.DEFAULT;
        }
        try {
            return TlsTrust.caFile(caFile);
        } catch (IOException e) {
            throw new IllegalArgumentException("delivery.tls-ca-file: " + e.getMessage(), e);
        }
    }

    private static TlsPolicy policy(TlsMode mode) {
        return switch (mode) {
            case NONE -> TlsPolicy.NONE;
            case OPPORTUNISTIC -> TlsPolicy.OPPORTUNISTIC;
            case REQUIRED -> TlsPolicy.REQUIRED;
            case VERIFY -> TlsPolicy.VERIFY;
            case FINGERPRINT -> TlsPolicy.FINGERPRINT;
            case MTA_STS -> TlsPolicy.MTA_STS;
            case DANE -> TlsPolicy.DANE;
        };
    }

    /** Defaults for {@code hostname}, with RFC 5321 timeouts. */
    public static ForwarderSettings defaults(String hostname) {
        return new ForwarderSettings(hostname, DEFAULT_CONCURRENCY, Duration.ofSeconds(2), SmtpTimeouts.RFC_5321,
                TlsPolicy.OPPORTUNISTIC, Map.of(), Duration.ZERO, 1024 * 1024, Duration.ofSeconds(30),
                leaseTimeFor(SmtpTimeouts.RFC_5321), 1000, 200);
    }

    public ForwarderSettings withTimeouts(SmtpTimeouts newTimeouts) {
        return new ForwarderSettings(hostname, concurrency, connectionReuseTime, newTimeouts, tls, domainTls,
                delayWarning, bounceSizeLimit, probeInterval, leaseTimeFor(newTimeouts), maxInFlight, leaseBatch,
                tlsTrust, domainPins, dnssec, bounceOnlySpfPass);
    }

    public ForwarderSettings withConcurrency(int newConcurrency) {
        return new ForwarderSettings(hostname, newConcurrency, connectionReuseTime, timeouts, tls, domainTls,
                delayWarning, bounceSizeLimit, probeInterval, leaseTime, maxInFlight, leaseBatch,
                tlsTrust, domainPins, dnssec, bounceOnlySpfPass);
    }

    public ForwarderSettings withDelayWarning(Duration newDelayWarning) {
        return new ForwarderSettings(hostname, concurrency, connectionReuseTime, timeouts, tls, domainTls,
                newDelayWarning, bounceSizeLimit, probeInterval, leaseTime, maxInFlight, leaseBatch,
                tlsTrust, domainPins, dnssec, bounceOnlySpfPass);
    }

    public ForwarderSettings withDomainTls(Map<String, TlsPolicy> newDomainTls) {
        return new ForwarderSettings(hostname, concurrency, connectionReuseTime, timeouts, tls, newDomainTls,
                delayWarning, bounceSizeLimit, probeInterval, leaseTime, maxInFlight, leaseBatch, tlsTrust, domainPins,
                dnssec, bounceOnlySpfPass);
    }

    /** The same, with these validated lookups for {@code tls: dane}. */
    public ForwarderSettings withDnssec(DnssecLookup newDnssec) {
        return new ForwarderSettings(hostname, concurrency, connectionReuseTime, timeouts, tls, domainTls,
                delayWarning, bounceSizeLimit, probeInterval, leaseTime, maxInFlight, leaseBatch, tlsTrust, domainPins,
                newDnssec, bounceOnlySpfPass);
    }

    public ForwarderSettings withBounceOnlySpfPass(boolean onlyPass) {
        return new ForwarderSettings(hostname, concurrency, connectionReuseTime, timeouts, tls, domainTls,
                delayWarning, bounceSizeLimit, probeInterval, leaseTime, maxInFlight, leaseBatch, tlsTrust, domainPins,
                dnssec, onlyPass);
    }

    /** The relay client's settings for mail to {@code domain}. */
    RelaySettings relaySettings(String domain) {
        return new RelaySettings(hostname, timeouts, domainTls.getOrDefault(domain, tls),
                tlsTrust.withPins(domainPins.getOrDefault(domain, List.of())));
    }
}
