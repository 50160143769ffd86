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
 * @param delivery  {@code delivery.*}
 * @param dns       {@code dns.*}
 * @param metrics   {@code metrics.*}
 * @param admin     {@code admin.*}
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
        DeliveryConfig delivery,
        DnsConfig dns,
        MetricsConfig metrics,
        AdminConfig admin,
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
        Objects.requireNonNull(delivery, "delivery");
        Objects.requireNonNull(dns, "dns");
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(admin, "admin");
        Objects.requireNonNull(screen, "screen");
    }

    /** As the canonical constructor, with {@link ScreenConfig#defaults()} for {@code screen}. */
    public BackstopConfig(String hostname, List<String> selfNames, SmtpConfig smtp, Map<String, DomainConfig> domains,
                          Map<String, HostPort> routes, QueueConfig queue, RetryConfig retry, ProbeConfig probe,
                          DeliveryConfig delivery, DnsConfig dns, MetricsConfig metrics, AdminConfig admin) {
        this(hostname, selfNames, smtp, domains, routes, queue, retry, probe, delivery, dns, metrics, admin,
                ScreenConfig.defaults());
    }

    /** As the canonical constructor, with {@link DeliveryConfig#defaults()} for {@code delivery}. */
    public BackstopConfig(String hostname, List<String> selfNames, SmtpConfig smtp, Map<String, DomainConfig> domains,
                          Map<String, HostPort> routes, QueueConfig queue, RetryConfig retry, ProbeConfig probe,
                          DnsConfig dns, MetricsConfig metrics, AdminConfig admin) {
        this(hostname, selfNames, smtp, domains, routes, queue, retry, probe, DeliveryConfig.defaults(), dns, metrics,
                admin);
    }

    /** The embedded defaults: serve {@code example.test} on 127.0.0.1:2525, queue in {@code ./data}. */
    public static BackstopConfig defaults() {
        return new BackstopConfig("backstop.example.test", List.of(), SmtpConfig.defaults(),
                Map.of("example.test", DomainConfig.acceptAll("example.test")), Map.of(), QueueConfig.defaults(),
                RetryConfig.defaults(), ProbeConfig.defaults(), DeliveryConfig.defaults(), DnsConfig.defaults(), MetricsConfig.defaults(),
                AdminConfig.defaults());
    }

    public Set<String> servedDomains() {
        return domains.keySet();
    }

    public BackstopConfig withSmtp(SmtpConfig newSmtp) {
        return new BackstopConfig(hostname, selfNames, newSmtp, domains, routes, queue, retry, probe, delivery, dns, metrics, admin, screen);
    }

    public BackstopConfig withQueue(QueueConfig newQueue) {
        return new BackstopConfig(hostname, selfNames, smtp, domains, routes, newQueue, retry, probe, delivery, dns, metrics, admin, screen);
    }

    public BackstopConfig withDelivery(DeliveryConfig newDelivery) {
        return new BackstopConfig(hostname, selfNames, smtp, domains, routes, queue, retry, probe, newDelivery, dns,
                metrics, admin, screen);
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
        return new BackstopConfig(hostname, selfNames, smtp, domains, routes, queue, retry, probe, delivery, dns, newMetrics, admin, screen);
    }

    public BackstopConfig withProbe(ProbeConfig newProbe) {
        return new BackstopConfig(hostname, selfNames, smtp, domains, routes, queue, retry, newProbe, delivery, dns, metrics, admin, screen);
    }

    public BackstopConfig withRoutes(Map<String, HostPort> newRoutes) {
        return new BackstopConfig(hostname, selfNames, smtp, domains, newRoutes, queue, retry, probe, delivery, dns, metrics, admin, screen);
    }

    public BackstopConfig withAdmin(AdminConfig newAdmin) {
        return new BackstopConfig(hostname, selfNames, smtp, domains, routes, queue, retry, probe, delivery, dns, metrics, newAdmin, screen);
    }

    public BackstopConfig withDns(DnsConfig newDns) {
        return new BackstopConfig(hostname, selfNames, smtp, domains, routes, queue, retry, probe, delivery, newDns,
                metrics, admin, screen);
    }

    public BackstopConfig withScreen(ScreenConfig newScreen) {
        return new BackstopConfig(hostname, selfNames, smtp, domains, routes, queue, retry, probe, delivery, dns, metrics,
                admin, newScreen);
    }

    public BackstopConfig withDomains(Map<String, DomainConfig> newDomains) {
        return new BackstopConfig(hostname, selfNames, smtp, newDomains, routes, queue, retry, probe, delivery, dns, metrics, admin, screen);
    }
}
