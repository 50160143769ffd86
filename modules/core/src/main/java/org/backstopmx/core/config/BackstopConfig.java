package org.backstopmx.core.config;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The whole configuration.
 *
 * @param hostname  {@code hostname}: our name in the greeting, EHLO, {@code Received: by}; also "self" for the MX rule
 * @param selfNames {@code self-names}: further names of this host and its peers at the same MX preference
 * @param smtp      {@code smtp.*}
 * @param domains   {@code domains.<name>.*}: the served domains, keyed by lower-case name
 * @param routes    {@code routes.<domain>}: transport map for other domains (bounces)
 * @param queue     {@code queue.*}
 * @param retry     {@code retry.*}
 * @param probe     {@code probe.*}
 * @param accept    {@code accept.*}
 * @param delivery  {@code delivery.*}
 * @param dns       {@code dns.*}
 * @param metrics   {@code metrics.*}
 * @param admin     {@code admin.*}
 * @param callout   {@code callout.*}
 * @param screen    {@code screen.*}
 */
public record BackstopConfig(
        String hostname,
        List<String> selfNames,
        SmtpConfig smtp,
        Map<String, DomainConfig> domains,
        Map<String, HostPort> routes,
        QueueConfig queue,
        RetryConfig retry,
        ProbeConfig probe,
        AcceptConfig accept,
        DeliveryConfig delivery,
        DnsConfig dns,
        MetricsConfig metrics,
        AdminConfig admin,
        CalloutConfig callout,
        ScreenConfig screen) {

    public BackstopConfig {
        Objects.requireNonNull(hostname, "hostname");
        selfNames = List.copyOf(selfNames);
        Objects.requireNonNull(smtp, "smtp");
        domains = Map.copyOf(domains);
        routes = Map.copyOf(routes);
        Objects.requireNonNull(queue, "queue");
        Objects.requireNonNull(retry, "retry");
        Objects.requireNonNull(probe, "probe");
        Objects.requireNonNull(accept, "accept");
        Objects.requireNonNull(delivery, "delivery");
        Objects.requireNonNull(dns, "dns");
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(admin, "admin");
        Objects.requireNonNull(callout, "callout");
        Objects.requireNonNull(screen, "screen");
    }

    /** As the canonical constructor, with {@link ScreenConfig#defaults()} for {@code screen}. */
    public BackstopConfig(String hostname, List<String> selfNames, SmtpConfig smtp, Map<String, DomainConfig> domains,
                          Map<String, HostPort> routes, QueueConfig queue, RetryConfig retry, ProbeConfig probe,
                          AcceptConfig accept, DeliveryConfig delivery, DnsConfig dns, MetricsConfig metrics,
                          AdminConfig admin, CalloutConfig callout) {
        this(hostname, selfNames, smtp, domains, routes, queue, retry, probe, accept, delivery, dns, metrics, admin,
                callout, ScreenConfig.defaults());
    }

    /** As the canonical constructor, with {@link CalloutConfig#defaults()} for {@code callout}. */
    public BackstopConfig(String hostname, List<String> selfNames, SmtpConfig smtp, Map<String, DomainConfig> domains,
                          Map<String, HostPort> routes, QueueConfig queue, RetryConfig retry, ProbeConfig probe,
                          AcceptConfig accept, DeliveryConfig delivery, DnsConfig dns, MetricsConfig metrics,
                          AdminConfig admin) {
        this(hostname, selfNames, smtp, domains, routes, queue, retry, probe, accept, delivery, dns, metrics, admin,
                CalloutConfig.defaults());
    }

    /** As the canonical constructor, with {@link AcceptConfig#defaults()} for {@code accept}. */
    public BackstopConfig(String hostname, List<String> selfNames, SmtpConfig smtp, Map<String, DomainConfig> domains,
                          Map<String, HostPort> routes, QueueConfig queue, RetryConfig retry, ProbeConfig probe,
                          DeliveryConfig delivery, DnsConfig dns, MetricsConfig metrics, AdminConfig admin) {
        this(hostname, selfNames, smtp, domains, routes, queue, retry, probe, AcceptConfig.defaults(), delivery, dns,
                metrics, admin);
    }

    /** As the canonical constructor, with the defaults for {@code accept} and {@code delivery}. */
    public BackstopConfig(String hostname, List<String> selfNames, SmtpConfig smtp, Map<String, DomainConfig> domains,
                          Map<String, HostPort> routes, QueueConfig queue, RetryConfig retry, ProbeConfig probe,
                          DnsConfig dns, MetricsConfig metrics, AdminConfig admin) {
        this(hostname, selfNames, smtp, domains, routes, queue, retry, probe, AcceptConfig.defaults(),
                DeliveryConfig.defaults(), dns, metrics, admin);
    }

    /** The embedded defaults: serve {@code example.test} on 127.0.0.1:2525, queue in {@code ./data}. */
    public static BackstopConfig defaults() {
        return new BackstopConfig("backstop.example.test", List.of(), SmtpConfig.defaults(),
                Map.of("example.test", DomainConfig.acceptAll("example.test")), Map.of(), QueueConfig.defaults(),
                RetryConfig.defaults(), ProbeConfig.defaults(), AcceptConfig.defaults(), DeliveryConfig.defaults(), DnsConfig.defaults(), MetricsConfig.defaults(),
                AdminConfig.defaults());
    }

    public Set<String> servedDomains() {
        return domains.keySet();
    }

    public BackstopConfig withSmtp(SmtpConfig newSmtp) {
        return new BackstopConfig(hostname, selfNames, newSmtp, domains, routes, queue, retry, probe, accept, delivery, dns, metrics, admin, callout, screen);
    }

    public BackstopConfig withQueue(QueueConfig newQueue) {
        return new BackstopConfig(hostname, selfNames, smtp, domains, routes, newQueue, retry, probe, accept, delivery, dns, metrics, admin, callout, screen);
    }

    public BackstopConfig withDelivery(DeliveryConfig newDelivery) {
        return new BackstopConfig(hostname, selfNames, smtp, domains, routes, queue, retry, probe, accept, newDelivery, dns,
                metrics, admin, callout, screen);
    }

    /**
     * STARTTLS when delivering mail for {@code domain}: the served domain's own {@code domains.<name>.tls} if it sets
     * one, otherwise {@code delivery.tls} (also for domains that are not served, such as bounce recipients').
     */
    public TlsMode tlsFor(String domain) {
        DomainConfig d = domains.get(domain.toLowerCase(Locale.ROOT));
        return d == null ? delivery.tls() : d.tls(delivery.tls());
    }

    public BackstopConfig withMetrics(MetricsConfig newMetrics) {
        return new BackstopConfig(hostname, selfNames, smtp, domains, routes, queue, retry, probe, accept, delivery, dns, newMetrics, admin, callout, screen);
    }

    public BackstopConfig withAccept(AcceptConfig newAccept) {
        return new BackstopConfig(hostname, selfNames, smtp, domains, routes, queue, retry, probe, newAccept, delivery,
                dns, metrics, admin, callout, screen);
    }

    public BackstopConfig withProbe(ProbeConfig newProbe) {
        return new BackstopConfig(hostname, selfNames, smtp, domains, routes, queue, retry, newProbe, accept, delivery, dns, metrics, admin, callout, screen);
    }

    public BackstopConfig withRoutes(Map<String, HostPort> newRoutes) {
        return new BackstopConfig(hostname, selfNames, smtp, domains, newRoutes, queue, retry, probe, accept, delivery, dns, metrics, admin, callout, screen);
    }

    public BackstopConfig withAdmin(AdminConfig newAdmin) {
        return new BackstopConfig(hostname, selfNames, smtp, domains, routes, queue, retry, probe, accept, delivery, dns, metrics, newAdmin, callout, screen);
    }

    public BackstopConfig withCallout(CalloutConfig newCallout) {
        return new BackstopConfig(hostname, selfNames, smtp, domains, routes, queue, retry, probe, accept, delivery, dns,
                metrics, admin, newCallout, screen);
    }

    public BackstopConfig withDns(DnsConfig newDns) {
        return new BackstopConfig(hostname, selfNames, smtp, domains, routes, queue, retry, probe, accept, delivery,
                newDns, metrics, admin, callout, screen);
    }

    public BackstopConfig withScreen(ScreenConfig newScreen) {
        return new BackstopConfig(hostname, selfNames, smtp, domains, routes, queue, retry, probe, accept, delivery,
                dns, metrics, admin, callout, newScreen);
    }

    /** The served domains whose recipients are checked by callout. */
    public Set<String> calloutDomains() {
        Set<String> out = new java.util.TreeSet<>();
        domains.values().stream().filter(DomainConfig::callout).forEach(d -> out.add(d.name()));
        return out;
    }

    public BackstopConfig withDomains(Map<String, DomainConfig> newDomains) {
        return new BackstopConfig(hostname, selfNames, smtp, newDomains, routes, queue, retry, probe, accept, delivery, dns, metrics, admin, callout, screen);
    }
}
