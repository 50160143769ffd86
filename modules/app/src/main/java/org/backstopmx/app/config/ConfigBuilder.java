package org.backstopmx.app.config;

import static org.backstopmx.app.config.Units.quote;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.backstopmx.app.config.RawConfig.RawDomain;
import org.backstopmx.core.config.AcceptConfig;
import org.backstopmx.core.config.AcceptMode;
import org.backstopmx.core.config.AddressRange;
import org.backstopmx.core.config.AdminConfig;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.CalloutConfig;
import org.backstopmx.core.config.DeliveryConfig;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.HostPort;
import org.backstopmx.core.config.MetricsConfig;
import org.backstopmx.core.config.ProbeConfig;
import org.backstopmx.core.config.RecipientCheck;
import org.backstopmx.core.config.QueueConfig;
import org.backstopmx.core.config.RetryConfig;
import org.backstopmx.core.config.RateConfig;
import org.backstopmx.core.config.ScreenConfig;
import org.backstopmx.core.config.SmtpConfig;
import org.backstopmx.core.config.TlsConfig;
import org.backstopmx.core.config.TlsMode;

/**
 * Parses a {@link RawConfig} onto the record tree, key by key over the embedded defaults. Each key's own rule
 * (positive, in range, a valid name) is checked here as it is parsed; rules between keys are left to
 * {@link ConfigValidator}, which sees the finished records.
 */
final class ConfigBuilder {
    private final RawConfig raw;
    private final Problems problems;
    private final ValueReader r;

    ConfigBuilder(RawConfig raw, Problems problems) {
        this.raw = raw;
        this.problems = problems;
        this.r = new ValueReader(raw.values, problems);
    }

    BackstopConfig build() {
        BackstopConfig d = BackstopConfig.defaults();
        return new BackstopConfig(
                r.get("hostname", d.hostname(), ValueParsers::hostname),
                r.list("self-names", d.selfNames(), ValueParsers::hostName),
                smtp(d.smtp()),
                domains(d.domains()),
                routes(),
                queue(d.queue()),
                new RetryConfig(
                        r.get("retry.min-backoff", d.retry().minBackoff(), ValueParsers::positiveDuration),
                        r.get("retry.max-backoff", d.retry().maxBackoff(), ValueParsers::positiveDuration)),
                new ProbeConfig(r.get("probe.interval", d.probe().interval(), ValueParsers::positiveDuration)),
                new AcceptConfig(r.get("accept.down-after", d.accept().downAfter(), ValueParsers::positiveInt)),
                delivery(d.delivery()),
                new DnsConfig(
                        r.optional("dns.server", d.dns().server(), ValueParsers::destination),
                        r.get("dns.timeout", d.dns().timeout(), ValueParsers::positiveDuration),
                        r.optional("dns.trust-anchor-file", d.dns().trustAnchorFile(), ValueParsers::path),
                        r.get("dns.trust-ad", d.dns().trustAd(), ValueParsers::bool)),
                new MetricsConfig(r.get("metrics.listen", d.metrics().listen(), ValueParsers::listenAddress)),
                new AdminConfig(
                        r.get("admin.listen", d.admin().listen(), ValueParsers::listenAddress),
                        r.optional("admin.token", d.admin().token(), ValueParsers::text),
                        r.optional("admin.token-file", d.admin().tokenFile(), ValueParsers::path)),
                callout(d.callout()), screen(d.screen()));
    }

    private CalloutConfig callout(CalloutConfig d) {
        return new CalloutConfig(
                r.get("callout.timeout", d.timeout(), ValueParsers::timeout),
                r.get("callout.max-sessions", d.maxSessions(), ValueParsers::positiveInt),
                r.get("callout.positive-ttl", d.positiveTtl(), ValueParsers::positiveDuration),
                r.get("callout.negative-ttl", d.negativeTtl(), ValueParsers::positiveDuration),
                r.get("callout.unknown-when-down", d.unknownWhenDown(), ValueParsers::unknownWhenDown));
    }

    private ScreenConfig screen(ScreenConfig d) {
        return new ScreenConfig(
                r.list("screen.dnsbl", d.dnsbl(), ScreenParsers::dnsList),
                r.list("screen.dnswl", d.dnswl(), ScreenParsers::dnsList),
                r.get("screen.threshold", d.threshold(), ValueParsers::positiveInt),
                r.get("screen.action", d.action(), ScreenParsers::action),
                r.list("screen.trusted", d.trusted(), AddressRange::parse),
                r.get("screen.greet-delay", d.greetDelay(), ValueParsers::nonNegativeDuration),
                rate(d.rate()),
                r.get("screen.greylist", d.greylist(), ScreenParsers::greylist),
                r.get("screen.greylist-delay", d.greylistDelay(), ValueParsers::positiveDuration),
                r.get("screen.greylist-retry-window", d.greylistRetryWindow(), ValueParsers::positiveDuration),
                r.get("screen.greylist-lifetime", d.greylistLifetime(), ValueParsers::positiveDuration),
                r.get("screen.spf", d.spf(), SpfParsers::policy),
                r.get("screen.bounce-only-spf-pass", d.bounceOnlySpfPass(), SpfParsers::flag));
    }

    private RateConfig rate(RateConfig d) {
        return new RateConfig(
                r.get("screen.rate.connections-per-client", d.connectionsPerClient(), ValueParsers::nonNegativeInt),
                r.get("screen.rate.connections-per-network", d.connectionsPerNetwork(), ValueParsers::nonNegativeInt),
                r.get("screen.rate.messages-per-client", d.messagesPerClient(), ValueParsers::nonNegativeInt),
                r.get("screen.rate.messages-per-network", d.messagesPerNetwork(), ValueParsers::nonNegativeInt));
    }

    private SmtpConfig smtp(SmtpConfig d) {
        return new SmtpConfig(
                r.get("smtp.listen", d.listen(), ValueParsers::listenAddress),
                r.get("smtp.max-message-size", d.maxMessageSize(), ValueParsers::positiveSize),
                r.get("smtp.max-recipients", d.maxRecipients(), ValueParsers::positiveInt),
                r.get("smtp.recipient-overshoot-limit", d.recipientOvershootLimit(), ValueParsers::nonNegativeInt),
                r.get("smtp.max-connections", d.maxConnections(), ValueParsers::positiveInt),
                r.get("smtp.max-connections-per-ip", d.maxConnectionsPerIp(), ValueParsers::positiveInt),
                r.get("smtp.idle-timeout", d.idleTimeout(), ValueParsers::positiveDuration),
                r.get("smtp.max-command-line-length", d.maxCommandLineLength(), ValueParsers::intSize),
                r.get("smtp.max-line-length", d.maxLineLength(), ValueParsers::intSize),
                r.get("smtp.max-errors", d.maxErrors(), ValueParsers::positiveInt),
                r.get("smtp.max-received-headers", d.maxReceivedHeaders(), ValueParsers::positiveInt),
                r.get("smtp.worker-threads", d.workerThreads(), ValueParsers::positiveInt),
                r.optional("smtp.postmaster", d.postmaster(), ValueParsers::mailbox),
                tls(d.tls()),
                r.get("smtp.proxy-protocol", d.proxyProtocol(), ValueParsers::proxyProtocol),
                r.list("smtp.proxy-trusted", d.proxyTrusted(), AddressRange::parse),
                r.get("smtp.record-deadline", d.recordDeadline(), ValueParsers::positiveDuration),
                r.get("smtp.stress-record-deadline", d.stressRecordDeadline(), ValueParsers::positiveDuration));
    }

    /** {@code smtp.tls}: both files or neither, since a certificate without its key (or the reverse) is no TLS. */
    private TlsConfig tls(TlsConfig d) {
        Path certificate = r.optional("smtp.tls.certificate", d == null ? null : d.certificate(), ValueParsers::path);
        Path key = r.optional("smtp.tls.key", d == null ? null : d.key(), ValueParsers::path);
        if (certificate != null && key != null) {
            return new TlsConfig(certificate, key);
        }
        if (certificate != null && !problems.has("smtp.tls.key")) {
            problems.add("smtp.tls.key", "must be set together with smtp.tls.certificate (STARTTLS needs both)");
        } else if (key != null && !problems.has("smtp.tls.certificate")) {
            problems.add("smtp.tls.certificate", "must be set together with smtp.tls.key (STARTTLS needs both)");
        }
        return null;
    }

    private QueueConfig queue(QueueConfig d) {
        return new QueueConfig(
                r.get("queue.path", d.path(), ValueParsers::path),
                r.get("queue.lifetime", d.lifetime(), ValueParsers::positiveDuration),
                r.get("queue.min-free-space", d.minFreeSpace(), ValueParsers::size),
                r.get("queue.compact-ratio", d.compactRatio(), ValueParsers::ratioAboveOne),
                r.get("queue.compact-min-size", d.compactMinSize(), ValueParsers::size),
                r.get("queue.expiry-warning", d.expiryWarning(), ValueParsers::positiveDuration),
                r.get("queue.at-expiry", d.atExpiry(), ValueParsers::atExpiry),
                r.get("queue.type", d.type(), ValueParsers::queueType),
                r.optional("queue.url", d.url(), ValueParsers::jdbcUrl),
                r.optional("queue.username", d.username(), ValueParsers::text),
                r.optional("queue.password-file", d.passwordFile(), ValueParsers::path),
                r.optional("queue.node-id", d.nodeId(), ValueParsers::nodeId),
                r.get("queue.lease-time", d.leaseTime(), ValueParsers::positiveDuration));
    }

    private DeliveryConfig delivery(DeliveryConfig d) {
        Duration delayWarning = r.optional("delivery.delay-warning", d.delayWarning(), ValueParsers::durationOrOff);
        TlsMode tls = r.get("delivery.tls", d.tls(), ValueParsers::tlsMode);
        if (tls == TlsMode.FINGERPRINT) {
            problems.add("delivery.tls", "fingerprint needs pins, which are per domain: set domains.<name>.tls:"
                    + " fingerprint and domains.<name>.tls-fingerprints");
        }
        return new DeliveryConfig(
                r.get("delivery.concurrency", d.concurrency(), ValueParsers::concurrency),
                r.get("delivery.connection-reuse-time", d.connectionReuseTime(), ValueParsers::nonNegativeDuration),
                r.get("delivery.connect-timeout", d.connectTimeout(), ValueParsers::timeout),
                r.get("delivery.command-timeout", d.commandTimeout(), ValueParsers::timeout),
                r.get("delivery.data-timeout", d.dataTimeout(), ValueParsers::timeout),
                tls,
                delayWarning == null ? Duration.ZERO : delayWarning, // given empty: off, like an unset optional key
                r.get("delivery.bounce-size-limit", d.bounceSizeLimit(), ValueParsers::size),
                r.optional("delivery.tls-ca-file", d.tlsCaFile(), ValueParsers::path));
    }

    /** The served domains: the default set unless a source named domains, then exactly those. */
    private Map<String, DomainConfig> domains(Map<String, DomainConfig> dflt) {
        if (raw.domains == null) {
            return dflt;
        }
        Map<String, DomainConfig> out = new LinkedHashMap<>();
        for (RawDomain rd : raw.domains.values()) {
            String key = ConfigKeys.DOMAINS + "." + rd.name();
            String name = domainName(key, rd.name(), rd.origin());
            if (name == null) {
                continue;
            }
            if (out.containsKey(name)) {
                problems.add(key, "listed twice (domain names are case-insensitive)", rd.origin());
                continue;
            }
            out.put(name, domain(name, rd));
        }
        return out;
    }

    private DomainConfig domain(String name, RawDomain rd) {
        Map<String, RawValue> s = rd.settings();
        HostPort route = s.containsKey("route") ? r.value(s.get("route"), null, true, ValueParsers::destination) : null;
        Path file = s.containsKey("recipients-file")
                ? r.value(s.get("recipients-file"), null, true, ValueParsers::path) : null;
        TlsMode tls = s.containsKey("tls") ? r.value(s.get("tls"), null, true, ValueParsers::tlsMode) : null;
        RecipientCheck check = s.containsKey("recipient-check")
                ? r.value(s.get("recipient-check"), null, true, ValueParsers::recipientCheck) : null;
        Set<String> recipients = null;
        RawValue list = s.get("recipients");
        if (list != null && !list.isEmpty()) {
            recipients = new HashSet<>(r.items(list, ConfigBuilder::localPart));
            if (list.items() != null && list.items().isEmpty() && file == null) {
                problems.add(list, "an empty list accepts no one; leave the key out to accept any local part");
            }
        }
        List<AddressRange> etrnFrom = s.containsKey("etrn-from")
                ? r.items(s.get("etrn-from"), AddressRange::parse) : List.of();
        AcceptMode accept = s.containsKey("accept")
                ? r.value(s.get("accept"), null, true, ValueParsers::acceptMode) : null;
        List<String> pins = s.containsKey("tls-fingerprints")
                ? r.items(s.get("tls-fingerprints"), ValueParsers::sha256Pin) : List.of();
        if (tls == TlsMode.FINGERPRINT && pins.isEmpty()) {
            problems.add(ConfigKeys.DOMAINS + "." + name + ".tls-fingerprints",
                    "must list at least one SHA-256 of the primary's public key when tls is fingerprint");
        }
        return new DomainConfig(name, route, recipients, file, tls, etrnFrom, accept, check, pins);
    }

    private Map<String, HostPort> routes() {
        Map<String, HostPort> out = new LinkedHashMap<>();
        raw.routes.forEach((written, value) -> {
            String name = domainName(value.key(), written, value.origin());
            HostPort to = r.value(value, null, false, ValueParsers::destination);
            if (name != null && to != null) {
                if (out.containsKey(name)) {
                    problems.add(value, "listed twice (domain names are case-insensitive)");
                } else {
                    out.put(name, to);
                }
            }
        });
        return out;
    }

    /** The lower-cased name, or null after recording why it is unusable. */
    private String domainName(String key, String written, String origin) {
        String name = written.toLowerCase(Locale.ROOT);
        Optional<String> problem = DnsNames.problem(name);
        if (problem.isPresent()) {
            problems.add(key, problem.get(), origin);
            return null;
        }
        return name;
    }

    /**
     * A local part for {@code recipients}, lower case (DomainConfig compares in lower case). Refuses whole addresses,
     * a common slip, and anything longer than RFC 5321 §4.5.3.1.1 allows (64 octets).
     */
    private static String localPart(String text) {
        String t = text.trim();
        if (t.isEmpty() || t.indexOf('@') >= 0 || t.chars().anyMatch(c -> c <= ' ' || c == 127)) {
            throw new IllegalArgumentException("must be a local part like alice (no @domain, no spaces), got "
                    + quote(text));
        }
        if (t.length() > 64) {
            throw new IllegalArgumentException("local parts are at most 64 characters (RFC 5321 §4.5.3.1.1), got "
                    + quote(text));
        }
        return t.toLowerCase(Locale.ROOT);
    }
}
