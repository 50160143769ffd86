package org.backstopmx.app.config;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.backstopmx.core.config.AdminConfig;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.HostPort;
import org.backstopmx.core.config.ProxyProtocol;
import org.backstopmx.core.config.SmtpConfig;
import org.backstopmx.core.config.TlsMode;

/**
 * The rules between keys, checked on the finished records, and the files the configuration names. A rule stays quiet
 * when one of its keys already has a problem (its value here is only the default standing in).
 */
final class ConfigValidator {
    /** The longest greeting delay: postscreen's default is 6s; a minute is already more than senders like. */
    static final java.time.Duration MAX_GREET_DELAY = java.time.Duration.ofSeconds(60);
    /**
     * The shortest lease of the shared queue. A node renews its leases every third of the lease time, on its scheduler
     * thread, so it loses one only when no renewal succeeds for two thirds of it: a minute leaves 40 s for what can
     * hold a renewal up (a database call waiting for the pool's 5 s connection timeout and retried, a GC pause, a
     * busy scheduler turn) and for the nodes' clocks being a little apart (each compares leases on its own clock).
     * Shorter, a hiccup of a live node would lose its leases and drop the jobs waiting under them.
     */
    static final java.time.Duration MIN_LEASE_TIME = java.time.Duration.ofMinutes(1);

    private final Problems problems;
    private final FileCheck files;

    private ConfigValidator(Problems problems, FileCheck files) {
        this.problems = problems;
        this.files = files;
    }

    static void validate(BackstopConfig config, Problems problems, FileCheck files) {
        ConfigValidator v = new ConfigValidator(problems, files);
        v.smtp(config.smtp());
        v.domains(config);
        v.retry(config);
        v.delivery(config);
        v.queue(config);
        v.admin(config.admin());
        v.screen(config);
        v.recordDeadlines(config);
        v.listeners(config);
    }

    private void recordDeadlines(BackstopConfig config) {
        String stress = "smtp.stress-record-deadline";
        if (!problems.anyOf(stress, "smtp.record-deadline")
                && config.smtp().stressRecordDeadline().compareTo(config.smtp().recordDeadline()) > 0) {
            problems.add(stress, "must not be longer than smtp.record-deadline (" + config.smtp().recordDeadline()
                    + "), got " + config.smtp().stressRecordDeadline());
        }
    }

    private void screen(BackstopConfig config) {
        String delay = "screen.greet-delay";
        // a greeting held past the idle timeout would end every session before it began
        if (!problems.anyOf(delay, "smtp.idle-timeout")
                && config.screen().greetDelay().compareTo(config.smtp().idleTimeout()) >= 0) {
            problems.add(delay, "must be shorter than smtp.idle-timeout (" + config.smtp().idleTimeout() + "), got "
                    + config.screen().greetDelay());
        }
        // RFC 5321 §4.5.3.2.1: a client waits 5 minutes for the greeting; senders give up sooner in practice
        if (!problems.has(delay) && config.screen().greetDelay().compareTo(MAX_GREET_DELAY) > 0) {
            problems.add(delay, "must be at most " + MAX_GREET_DELAY.toSeconds() + "s (senders stop waiting for the "
                    + "greeting), got " + config.screen().greetDelay());
        }
        String dnsbl = "screen.dnsbl";
        String dnswl = "screen.dnswl";
        if (!problems.anyOf(dnsbl, dnswl)) {
            java.util.Set<String> zones = new java.util.HashSet<>();
            for (var list : config.screen().dnsbl()) {
                if (!zones.add(list.zone())) {
                    problems.add(dnsbl, list.zone() + " is listed twice");
                }
            }
            for (var list : config.screen().dnswl()) {
                if (!zones.add(list.zone())) {
                    problems.add(dnswl, list.zone() + " is listed twice, or also in screen.dnsbl");
                }
            }
        }
        greylist(config);
    }

    /** A retry can pass only within the retry window, and a pass must be remembered longer than a first try. */
    private void greylist(BackstopConfig config) {
        String delay = "screen.greylist-delay";
        String window = "screen.greylist-retry-window";
        String lifetime = "screen.greylist-lifetime";
        var s = config.screen();
        if (!problems.anyOf(delay, window) && s.greylistDelay().compareTo(s.greylistRetryWindow()) >= 0) {
            problems.add(delay, "must be shorter than " + window + " (" + s.greylistRetryWindow()
                    + "), or no retry could pass, got " + s.greylistDelay());
        }
        if (!problems.anyOf(window, lifetime) && s.greylistRetryWindow().compareTo(s.greylistLifetime()) > 0) {
            problems.add(lifetime, "must be at least " + window + " (" + s.greylistRetryWindow() + "), got "
                    + s.greylistLifetime());
        }
    }

    private void smtp(SmtpConfig smtp) {
        String command = "smtp.max-command-line-length";
        String line = "smtp.max-line-length";
        // RFC 5321 §4.5.3.1.4: a command line is up to 512 octets with CRLF; we must accept at least that.
        if (!problems.has(command) && smtp.maxCommandLineLength() < 512) {
            problems.add(command, "must be at least 512 (RFC 5321 §4.5.3.1.4), got " + smtp.maxCommandLineLength());
        }
        // RFC 5321 §4.5.3.1.6: a text line is up to 1000 octets with CRLF; refusing shorter ones refuses legal mail.
        if (!problems.has(line) && smtp.maxLineLength() < 1000) {
            problems.add(line, "must be at least 1000 (RFC 5321 §4.5.3.1.6), got " + smtp.maxLineLength());
        }
        // The line decoder frames every line, command or text, with max-line-length.
        if (!problems.anyOf(command, line) && smtp.maxLineLength() < smtp.maxCommandLineLength()) {
            problems.add(line, "must be at least smtp.max-command-line-length (" + smtp.maxCommandLineLength()
                    + "), got " + smtp.maxLineLength());
        }
        if (smtp.tls() != null) {
            file("smtp.tls.certificate", smtp.tls().certificate());
            file("smtp.tls.key", smtp.tls().key());
        }
        // a PROXY header names any client its sender likes: only the load balancers may send one
        if (!problems.anyOf("smtp.proxy-protocol", "smtp.proxy-trusted") && smtp.proxyProtocol() != ProxyProtocol.OFF
                && smtp.proxyTrusted().isEmpty()) {
            problems.add("smtp.proxy-trusted", "must list the load balancers' addresses or prefixes when "
                    + "smtp.proxy-protocol is " + smtp.proxyProtocol().configName());
        }
    }

    private void domains(BackstopConfig config) {
        if (config.domains().isEmpty() && !problems.hasUnder(ConfigKeys.DOMAINS)) {
            problems.add(ConfigKeys.DOMAINS, "at least one domain must be served");
        }
        for (DomainConfig d : config.domains().values()) {
            if (d.recipientsFile() != null) {
                file(ConfigKeys.DOMAINS + "." + d.name() + ".recipients-file", d.recipientsFile());
            }
            if (d.recipientCheck() == org.backstopmx.core.config.RecipientCheck.LIST && d.recipients() == null
                    && d.recipientsFile() == null) {
                problems.add(ConfigKeys.DOMAINS + "." + d.name() + ".recipient-check",
                        "list needs recipients or recipients-file (none are set, so it would accept no one)");
            }
        }
        // RFC 5321 §4.5.1: <Postmaster> must be accepted, so it must go to a domain we serve
        String postmaster = config.smtp().postmaster();
        if (postmaster != null && !problems.has("smtp.postmaster") && !problems.hasUnder(ConfigKeys.DOMAINS)
                && !config.domains().containsKey(postmaster.substring(postmaster.lastIndexOf('@') + 1))) {
            problems.add("smtp.postmaster", "must be an address at a served domain, got \"" + postmaster + "\"");
        }
        // One place per domain's route: a served domain's primary is domains.<name>.route, not routes.<name>.
        for (String routed : config.routes().keySet()) {
            if (config.domains().containsKey(routed)) {
                problems.add(ConfigKeys.ROUTES + "." + routed, routed + " is a served domain; set domains."
                        + routed + ".route instead");
            }
        }
    }

    private void retry(BackstopConfig config) {
        if (!problems.anyOf("retry.min-backoff", "retry.max-backoff")
                && config.retry().minBackoff().compareTo(config.retry().maxBackoff()) > 0) {
            problems.add("retry.min-backoff", "must not be longer than retry.max-backoff ("
                    + config.retry().maxBackoff() + "), got " + config.retry().minBackoff());
        }
    }

    /** A delay notice at or after the expiry would never be sent: the message has bounced by then. */
    private void delivery(BackstopConfig config) {
        dane(config);

        String warning = "delivery.delay-warning";
        if (!problems.anyOf(warning, "queue.lifetime") && config.delivery().warnsOfDelay()
                && config.delivery().delayWarning().compareTo(config.queue().lifetime()) >= 0) {
            problems.add(warning, "must be shorter than queue.lifetime (" + config.queue().lifetime() + "), or off, got "
                    + config.delivery().delayWarning());
        }
    }

    /**
     * {@code tls: dane} needs DNSSEC's verdict: validated here from {@code dns.trust-anchor-file}, or taken from the
     * resolver with {@code dns.trust-ad}; one of the two, since they disagree on whom to trust.
     */
    private void dane(BackstopConfig config) {
        var dns = config.dns();
        if (dns.trustAnchorFile() != null) {
            file("dns.trust-anchor-file", dns.trustAnchorFile());
            if (dns.trustAd() && !problems.has("dns.trust-ad")) {
                problems.add("dns.trust-ad", "set dns.trust-anchor-file (validate here) or dns.trust-ad: true (trust"
                        + " the resolver's AD bit), not both");
            }
        }
        if (dns.validates() || problems.anyOf("dns.trust-anchor-file", "dns.trust-ad")) {
            return;
        }
        if (config.delivery().tls() == TlsMode.DANE && !problems.has("delivery.tls")) {
            problems.add("delivery.tls", "dane needs DNSSEC: set dns.trust-anchor-file, or dns.trust-ad: true with"
                    + " dns.server a validating resolver on this host");
        }
        for (DomainConfig d : config.domains().values()) {
            String key = ConfigKeys.DOMAINS + "." + d.name() + ".tls";
            if (d.tls() == TlsMode.DANE && !problems.has(key)) {
                problems.add(key, "dane needs DNSSEC: set dns.trust-anchor-file, or dns.trust-ad: true with"
                        + " dns.server a validating resolver on this host");
            }
        }
    }

    /**
     * The shared queue needs its database; and a claim must outlast the longest delivery attempt, or another node
     * takes a recipient this one is still delivering (and it is delivered twice).
     */
    private void queue(BackstopConfig config) {
        org.backstopmx.core.config.QueueConfig q = config.queue();
        if (q.type() != org.backstopmx.core.config.QueueType.POSTGRESQL) {
            return;
        }
        if (q.url() == null && !problems.has("queue.url")) {
            problems.add("queue.url", "must be set when queue.type is postgresql");
        }
        if (q.passwordFile() != null) {
            file("queue.password-file", q.passwordFile());
        }
        if (!problems.has("queue.lease-time") && q.leaseTime().compareTo(MIN_LEASE_TIME) < 0) {
            problems.add("queue.lease-time", "must be at least " + MIN_LEASE_TIME.toSeconds() + "s (leases are renewed"
                    + " every third of it; shorter, a slow database call could lose a live node's leases), got "
                    + q.leaseTime());
        }
    }

    private void admin(AdminConfig admin) {
        if (admin.token() != null && admin.tokenFile() != null) {
            problems.add("admin.token", "set admin.token or admin.token-file, not both");
        }
        if (admin.tokenFile() != null) {
            file("admin.token-file", admin.tokenFile());
        }
    }

    /** Two listeners on the same address and port: the second bind would fail at startup, less clearly. */
    private void listeners(BackstopConfig config) {
        Map<HostPort, String> seen = new HashMap<>();
        Map<String, HostPort> listeners = new LinkedHashMap<>();
        listeners.put("smtp.listen", config.smtp().listen());
        listeners.put("metrics.listen", config.metrics().listen());
        listeners.put("admin.listen", config.admin().listen());
        listeners.forEach((key, address) -> {
            if (address.port() == 0 || problems.has(key)) {
                return;
            }
            String other = seen.putIfAbsent(address, key);
            if (other != null) {
                problems.add(key, "is the same address as " + other + ": " + address);
            }
        });
    }

    private void file(String key, Path path) {
        if (!problems.has(key)) {
            files.problem(path).ifPresent(p -> problems.add(key, p));
        }
    }
}
