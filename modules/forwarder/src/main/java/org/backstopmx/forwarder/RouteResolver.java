package org.backstopmx.forwarder;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.random.RandomGenerator;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.HostPort;
import org.backstopmx.forwarder.Route.Defer;
import org.backstopmx.forwarder.Route.Destination;
import org.backstopmx.forwarder.Route.Destinations;
import org.backstopmx.forwarder.Route.Fail;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides where mail for a domain goes now (RFC 5321 §5.1, RFC 7505).
 *
 * <p>Order of rules:
 * <ol>
 *   <li>an address literal ({@code [192.0.2.1]}) is its own destination;</li>
 *   <li>a configured route wins: {@code domains.<name>.route} for a served domain, else {@code routes.<domain>};</li>
 *   <li>else the MX records, sorted by preference, equal preferences shuffled, minus every MX at or above the lowest
 *       preference where one of our own names ({@code hostname}, {@code self-names}) appears;</li>
 *   <li>no MX records at all (NODATA): the domain's own A/AAAA records, as an implicit MX of preference 0.</li>
 * </ol>
 *
 * <p>When no destination is left, the answer depends on whose mail it is. For a served domain (relay: we are its
 * backup) the mail waits, since the mail was accepted for a primary that its DNS or our configuration will name
 * again; every such case that waiting alone will not fix is {@link Defer#flagged() flagged} and logged at WARN,
 * because it is an operator error and never the sender's. For any other domain (a bounce's destination) a null MX,
 * NXDOMAIN or a loop back to us fails the mail. DNS failures (SERVFAIL, timeout, REFUSED, network) always defer.
 *
 * <p>The configuration it works from can be replaced while it runs ({@link #reload}).
 *
 * <p>Thread-safe when the {@link RandomGenerator} is (tests pass a seeded one and call from one thread). Asks DNS on
 * every call: caching is the {@link MxResolver}'s job.
 */
public final class RouteResolver {
    private static final Logger LOG = LoggerFactory.getLogger(RouteResolver.class);

    private final MxResolver dns;
    private final RandomGenerator random;
    /** Swapped whole by {@link #reload}: a resolution reads it once and sees one configuration, old or new. */
    private volatile Table table;

    /** What the configuration says about routing: our own names, the served domains, the configured routes. */
    private record Table(Set<String> selfNames, Set<String> served, Map<String, HostPort> routes,
            Map<String, java.util.List<org.backstopmx.core.config.AddressRange>> etrnFrom) {
        static Table of(BackstopConfig config) {
            Set<String> selfNames = new HashSet<>();
            Set<String> served = new HashSet<>();
            Map<String, HostPort> routes = new HashMap<>();
            Map<String, java.util.List<org.backstopmx.core.config.AddressRange>> etrnFrom = new HashMap<>();
            selfNames.add(DomainNames.normalize(config.hostname()));
            config.selfNames().forEach(n -> selfNames.add(DomainNames.normalize(n)));
            config.routes().forEach((domain, route) -> routes.put(DomainNames.normalize(domain), route));
            for (DomainConfig d : config.domains().values()) {
                String name = DomainNames.normalize(d.name());
                served.add(name);
                etrnFrom.put(name, d.etrnFrom());
                if (d.route() != null) {
                    routes.put(name, d.route()); // the served domain's own route wins over routes.<domain>
                }
            }
            return new Table(Set.copyOf(selfNames), Set.copyOf(served), Map.copyOf(routes), Map.copyOf(etrnFrom));
        }
    }

    public RouteResolver(BackstopConfig config, MxResolver dns, RandomGenerator random) {
        Objects.requireNonNull(config, "config");
        this.dns = Objects.requireNonNull(dns, "dns");
        this.random = Objects.requireNonNull(random, "random");
        this.table = Table.of(config);
    }

    /**
     * Takes the served domains, their routes, {@code routes} and our own names ({@code hostname}, {@code self-names})
     * from {@code config}, at once: a configuration reload. Resolutions under way finish with the previous ones.
     */
    public void reload(BackstopConfig config) {
        table = Table.of(Objects.requireNonNull(config, "config"));
    }

    /** Whether {@code domain} is one we serve (we are its backup MX), as opposed to a bounce's destination. */
    public boolean isServed(String domain) {
        return table.served().contains(DomainNames.normalize(domain));
    }

    /** Whether {@code client} is in the served domain's {@code etrn-from} list (its primary behind NAT, say). */
    public boolean etrnAllowedFrom(String domain, java.net.InetAddress client) {
        return table.etrnFrom().getOrDefault(DomainNames.normalize(domain), java.util.List.of()).stream()
                .anyMatch(range -> range.contains(client));
    }

    /** Whether {@code client} is in any served domain's {@code etrn-from} list. */
    public boolean inAnyEtrnFrom(java.net.InetAddress client) {
        return table.etrnFrom().values().stream().flatMap(java.util.List::stream).anyMatch(range -> range.contains(client));
    }

    /**
     * Whether mail for {@code domain} goes to a configured route ({@code domains.<name>.route}, {@code routes}) rather
     * than to its MX hosts: DANE then trusts the route's host name without an MX answer ({@link DaneGate}).
     */
    public boolean hasConfiguredRoute(String domain) {
        return table.routes().containsKey(DomainNames.normalize(domain));
    }

    /** The served domains now, lower case. */
    public Set<String> servedDomains() {
        return table.served();
    }

    /** Where mail for {@code domain} (the part after the {@code @}) goes now. */
    public Route resolve(String domain) {
        String name = DomainNames.normalize(domain);
        Table config = table;
        boolean relay = config.served().contains(name);

        Optional<InetAddress> literal = AddressLiterals.parseDomainLiteral(name);
        if (literal.isPresent()) {
            // XXX: a literal naming one of our own addresses is not detected (nor are MX hosts that resolve to us)
            return Destinations.of(new Destination(literal.get().getHostAddress(), Route.SMTP_PORT, List.of(literal.get())));
        }
        HostPort configured = config.routes().get(name);
        if (configured != null) {
            List<InetAddress> known = AddressLiterals.parse(configured.host()).map(List::of).orElse(List.of());
            return Destinations.of(new Destination(configured.host(), configured.port(), known));
        }

        MxAnswer answer = dns.mx(name);
        if (answer instanceof MxAnswer.Records r) {
            return fromMx(config.selfNames(), name, relay, r.records());
        }
        if (answer instanceof MxAnswer.NoRecords) {
            return implicitMx(config.selfNames(), name, relay);
        }
        if (answer instanceof MxAnswer.NullMx) {
            return nowhere(relay, FailurePolicy.Unroutable.NULL_MX, name,
                    "domain " + name + " accepts no mail (null MX, RFC 7505)");
        }
        if (answer instanceof MxAnswer.NxDomain) {
            return nowhere(relay, FailurePolicy.Unroutable.NO_SUCH_DOMAIN, name,
                    "domain " + name + " does not exist (NXDOMAIN)");
        }
        MxAnswer.TemporaryFailure t = (MxAnswer.TemporaryFailure) answer;
        return temporary(name, "MX", t.failure(), t.detail());
    }

    private Route fromMx(Set<String> selfNames, String name, boolean relay, List<MxRecord> records) {
        // RFC 5321 §5.1: if we are in the list, only hosts of a strictly lower preference than our own are usable
        // (a backup never delivers to itself or to its peers at the same preference).
        int own = Integer.MAX_VALUE;
        for (MxRecord mx : records) {
            if (selfNames.contains(mx.host())) {
                own = Math.min(own, mx.preference());
            }
        }
        List<MxRecord> usable = new ArrayList<>();
        for (MxRecord mx : records) {
            if (mx.preference() < own) {
                usable.add(mx);
            }
        }
        if (usable.isEmpty()) {
            return nowhere(relay, FailurePolicy.Unroutable.LOOP, name,
                    "mail for " + name + " loops back to myself (we are its best MX, preference " + own + ")");
        }
        List<Destination> out = new ArrayList<>();
        for (MxRecord mx : sortedAndShuffled(usable)) {
            out.add(Destination.mx(mx.host()));
        }
        return new Destinations(out);
    }

    /** By preference, ascending; within one preference in random order (RFC 5321 §5.1: spread the load). */
    private List<MxRecord> sortedAndShuffled(List<MxRecord> records) {
        List<MxRecord> sorted = new ArrayList<>(records);
        sorted.sort(Comparator.comparingInt(MxRecord::preference));
        int start = 0;
        while (start < sorted.size()) {
            int end = start;
            while (end < sorted.size() && sorted.get(end).preference() == sorted.get(start).preference()) {
                end++;
            }
            // Fisher-Yates over [start, end)
            for (int i = end - 1; i > start; i--) {
                int j = start + random.nextInt(i - start + 1);
                MxRecord tmp = sorted.get(i);
                sorted.set(i, sorted.get(j));
                sorted.set(j, tmp);
            }
            start = end;
        }
        return sorted;
    }

    /** RFC 5321 §5.1: no MX records, so the domain itself is the only host, "with a preference of 0". */
    private Route implicitMx(Set<String> selfNames, String name, boolean relay) {
        if (selfNames.contains(name)) {
            return nowhere(relay, FailurePolicy.Unroutable.LOOP, name,
                    "mail for " + name + " loops back to myself (implicit MX)");
        }
        AddressAnswer a = dns.addresses(name);
        if (a instanceof AddressAnswer.Addresses found) {
            return Destinations.of(new Destination(name, Route.SMTP_PORT, found.addresses()));
        }
        if (a instanceof AddressAnswer.TemporaryFailure t) {
            return temporary(name, "A/AAAA", t.failure(), t.detail());
        }
        // NXDOMAIN right after NODATA for MX: the zone changed in between; either way there is no host
        return nowhere(relay, FailurePolicy.Unroutable.NO_HOST, name,
                "domain " + name + " has neither MX nor address records");
    }

    private static Route nowhere(boolean relay, FailurePolicy.Unroutable why, String name, String reason) {
        if (relay) {
            // Served domain: we accepted this mail as its backup, so it waits for the operator (a route, or DNS fixed).
            LOG.warn("served domain {}: {}; its mail waits: fix its DNS or configure domains.{}.route", name, reason,
                    name);
        }
        return why.route(relay, reason);
    }

    private static Route temporary(String name, String question, DnsFailure failure, String detail) {
        return FailurePolicy.dnsFailure(
                "DNS " + question + " lookup for " + name + " failed: " + failure + " (" + detail + ")");
    }
}
