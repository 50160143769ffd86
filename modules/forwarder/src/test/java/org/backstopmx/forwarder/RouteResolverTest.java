package org.backstopmx.forwarder;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.HostPort;
import org.backstopmx.forwarder.Route.Defer;
import org.backstopmx.forwarder.Route.Destination;
import org.backstopmx.forwarder.Route.Destinations;
import org.backstopmx.forwarder.Route.Fail;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/**
 * Route resolution over a static DNS. We are {@code backstop.example.org}, our peer at the same preference is
 * {@code backstop2.example.org} (written in odd case in the configuration); the served domains end in {@code .org},
 * every other domain is a bounce's destination.
 */
class RouteResolverTest {
    private static final MxAnswer.TemporaryFailure SERVFAIL = new MxAnswer.TemporaryFailure(DnsFailure.SERVFAIL, "test");

    private static final StaticMxResolver DNS = new StaticMxResolver()
            // served domains
            .mx("routed.org", MxAnswer.Records.of(MxRecord.of(10, "mx.routed.org")))
            .mx("backup.org", MxAnswer.Records.of(MxRecord.of(30, "tertiary.backup.org"),
                    MxRecord.of(20, "backstop.example.org"), MxRecord.of(10, "primary.backup.org"),
                    MxRecord.of(20, "other-peer.backup.org")))
            .mx("peer.org", MxAnswer.Records.of(MxRecord.of(10, "primary.peer.org"),
                    MxRecord.of(20, "backstop2.example.org."), MxRecord.of(30, "tertiary.peer.org")))
            .mx("selfbest.org", MxAnswer.Records.of(MxRecord.of(10, "backstop.example.org"),
                    MxRecord.of(20, "secondary.selfbest.org")))
            .mx("nullmx.org", new MxAnswer.NullMx())
            .mx("implicit.org", new MxAnswer.NoRecords())
            .addresses("implicit.org", new AddressAnswer.Addresses(List.of(ip("192.0.2.7"), ip("2001:db8::7"))))
            .mx("noaddress.org", new MxAnswer.NoRecords())
            .addresses("noaddress.org", new AddressAnswer.NoAddresses())
            .mx("servfail.org", SERVFAIL)
            // (nxdomain.org: not in the map)
            // bounce destinations
            .mx("sorted.net", MxAnswer.Records.of(MxRecord.of(30, "c.sorted.net"), MxRecord.of(10, "a.sorted.net"),
                    MxRecord.of(20, "b.sorted.net")))
            .mx("routed.net", MxAnswer.Records.of(MxRecord.of(10, "mx.routed.net")))
            .mx("selfbest.net", MxAnswer.Records.of(MxRecord.of(5, "BACKSTOP.example.org"),
                    MxRecord.of(10, "other.selfbest.net")))
            .mx("nullmx.net", new MxAnswer.NullMx())
            .mx("implicit.net", new MxAnswer.NoRecords())
            .addresses("implicit.net", new AddressAnswer.Addresses(List.of(ip("192.0.2.8"))))
            .mx("noaddress.net", new MxAnswer.NoRecords())
            .addresses("noaddress.net", new AddressAnswer.NoAddresses())
            .mx("addressfail.net", new MxAnswer.NoRecords())
            .addresses("addressfail.net", new AddressAnswer.TemporaryFailure(DnsFailure.TIMEOUT, "test"))
            .mx("servfail.net", SERVFAIL)
            .mx("backstop.example.org", new MxAnswer.NoRecords())
            .addresses("backstop.example.org", new AddressAnswer.Addresses(List.of(ip("192.0.2.1"))));

    static Stream<Arguments> table() {
        return Stream.of(
            row("configured route wins over MX (served domain)", "routed.org",
                Destinations.of(new Destination("mail.routed.org", 2525, List.of()))),
            row("routes.<domain> for a bounce destination, address literal known", "routed.net",
                Destinations.of(new Destination("10.0.0.5", 25, List.of(ip("10.0.0.5"))))),
            row("served domain's name in any case, trailing dot", "Routed.ORG.",
                Destinations.of(new Destination("mail.routed.org", 2525, List.of()))),
            row("MX sorted by preference", "sorted.net",
                Destinations.of(mx("a.sorted.net"), mx("b.sorted.net"), mx("c.sorted.net"))),
            row("our name at 20 drops 20 and 30", "backup.org", Destinations.of(mx("primary.backup.org"))),
            row("a self-name (case, trailing dot) counts as ours", "peer.org", Destinations.of(mx("primary.peer.org"))),
            row("our name at the lowest preference, served: flagged defer", "selfbest.org",
                new Defer("4.4.6", "mail for selfbest.org loops back to myself (we are its best MX, preference 10)", true)),
            row("our name at the lowest preference, bounce: fail", "selfbest.net",
                new Fail("5.4.6", "mail for selfbest.net loops back to myself (we are its best MX, preference 5)")),
            row("no MX: implicit MX from A/AAAA (served)", "implicit.org",
                Destinations.of(new Destination("implicit.org", 25, List.of(ip("192.0.2.7"), ip("2001:db8::7"))))),
            row("no MX: implicit MX from A/AAAA (bounce)", "implicit.net",
                Destinations.of(new Destination("implicit.net", 25, List.of(ip("192.0.2.8"))))),
            row("no MX and no address, served: flagged defer", "noaddress.org",
                new Defer("4.4.4", "domain noaddress.org has neither MX nor address records", true)),
            row("no MX and no address, bounce: fail", "noaddress.net",
                new Fail("5.4.4", "domain noaddress.net has neither MX nor address records")),
            row("no MX and the domain is our own name: loop", "backstop.example.org",
                new Fail("5.4.6", "mail for backstop.example.org loops back to myself (implicit MX)")),
            row("null MX, served: flagged defer", "nullmx.org",
                new Defer("4.4.4", "domain nullmx.org accepts no mail (null MX, RFC 7505)", true)),
            row("null MX, bounce: fail 5.1.10", "nullmx.net",
                new Fail("5.1.10", "domain nullmx.net accepts no mail (null MX, RFC 7505)")),
            row("NXDOMAIN, served: flagged defer (operator error)", "nxdomain.org",
                new Defer("4.4.4", "domain nxdomain.org does not exist (NXDOMAIN)", true)),
            row("NXDOMAIN, bounce: fail", "nxdomain.net",
                new Fail("5.1.2", "domain nxdomain.net does not exist (NXDOMAIN)")),
            row("SERVFAIL, served: defer", "servfail.org",
                new Defer("4.4.3", "DNS MX lookup for servfail.org failed: SERVFAIL (test)", false)),
            row("SERVFAIL, bounce: defer too", "servfail.net",
                new Defer("4.4.3", "DNS MX lookup for servfail.net failed: SERVFAIL (test)", false)),
            row("implicit MX lookup times out: defer", "addressfail.net",
                new Defer("4.4.3", "DNS A/AAAA lookup for addressfail.net failed: TIMEOUT (test)", false)),
            row("address literal", "[192.0.2.9]",
                Destinations.of(new Destination("192.0.2.9", 25, List.of(ip("192.0.2.9"))))),
            row("IPv6 address literal", "[IPv6:2001:DB8::9]",
                Destinations.of(new Destination("2001:db8:0:0:0:0:0:9", 25, List.of(ip("2001:db8::9"))))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void resolves(String why, String domain, Route expected) {
        assertThat(resolver(new SplittableRandom(1)).resolve(domain)).isEqualTo(expected);
    }

    @Test
    void equalPreferencesAreShuffledByTheInjectedGenerator() {
        StaticMxResolver dns = new StaticMxResolver().mx("equal.net", MxAnswer.Records.of(MxRecord.of(20, "d.equal.net"),
                MxRecord.of(10, "a.equal.net"), MxRecord.of(10, "b.equal.net"), MxRecord.of(10, "c.equal.net")));
        Set<String> firsts = new HashSet<>();
        for (long seed = 0; seed < 64; seed++) {
            List<String> order = hosts(resolver(dns, new SplittableRandom(seed)).resolve("equal.net"));
            assertThat(order.subList(0, 3)).containsExactlyInAnyOrder("a.equal.net", "b.equal.net", "c.equal.net");
            assertThat(order.get(3)).isEqualTo("d.equal.net");
            firsts.add(order.get(0));
            // the same seed gives the same order: tests can be deterministic
            assertThat(hosts(resolver(dns, new SplittableRandom(seed)).resolve("equal.net"))).isEqualTo(order);
        }
        assertThat(firsts).containsExactlyInAnyOrder("a.equal.net", "b.equal.net", "c.equal.net");
    }

    @Test
    void servedDomainWithoutMailInDnsIsLoggedAtWarn() {
        Logger logger = (Logger) LoggerFactory.getLogger(RouteResolver.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try {
            resolver(new SplittableRandom(1)).resolve("nxdomain.org");
            resolver(new SplittableRandom(1)).resolve("nxdomain.net");
        } finally {
            logger.detachAppender(appender);
        }
        assertThat(appender.list).singleElement().satisfies(e -> {
            assertThat(e.getLevel()).isEqualTo(Level.WARN);
            assertThat(e.getFormattedMessage()).contains("nxdomain.org", "NXDOMAIN", "domains.nxdomain.org.route");
        });
    }

    @Test
    void servedDomainsComeFromTheConfiguration() {
        RouteResolver r = resolver(new SplittableRandom(1));
        assertThat(r.isServed("backup.org")).isTrue();
        assertThat(r.isServed("BACKUP.org.")).isTrue();
        assertThat(r.isServed("sorted.net")).isFalse();
    }

    @Test
    void aReloadReplacesServedDomainsRoutesAndSelfNamesAtOnce() {
        RouteResolver r = resolver(new SplittableRandom(1));
        assertThat(hosts(r.resolve("peer.org"))).containsExactly("primary.peer.org");

        BackstopConfig d = BackstopConfig.defaults();
        r.reload(new BackstopConfig("backstop.example.org", List.of(), d.smtp(),
                Map.of("peer.org", DomainConfig.acceptAll("peer.org"),
                        "sorted.net", new DomainConfig("sorted.net", new HostPort("192.0.2.9", 25), null, null)),
                Map.of(), d.queue(), d.retry(), d.probe(), d.dns(), d.metrics(), d.admin()));

        // no longer served: its route went with it, and it resolves like any other domain (by MX)
        assertThat(r.isServed("routed.org")).isFalse();
        assertThat(r.resolve("routed.org")).isEqualTo(Destinations.of(mx("mx.routed.org")));
        // newly served, with its own route
        assertThat(r.isServed("sorted.net")).isTrue();
        assertThat(r.resolve("sorted.net")).isEqualTo(Destinations.of(new Destination("192.0.2.9", 25,
                List.of(ip("192.0.2.9")))));
        // routes.routed.net is gone
        assertThat(r.resolve("routed.net")).isEqualTo(Destinations.of(mx("mx.routed.net")));
        // backstop2 is no longer one of our names, so it is a usable MX like the others
        assertThat(hosts(r.resolve("peer.org"))).hasSize(3).contains("primary.peer.org", "tertiary.peer.org");
    }

    private static RouteResolver resolver(SplittableRandom random) {
        return resolver(DNS, random);
    }

    private static RouteResolver resolver(MxResolver dns, SplittableRandom random) {
        Map<String, DomainConfig> domains = Map.of(
                "routed.org", new DomainConfig("routed.org", new HostPort("mail.routed.org", 2525), null, null),
                "backup.org", DomainConfig.acceptAll("backup.org"),
                "peer.org", DomainConfig.acceptAll("peer.org"),
                "selfbest.org", DomainConfig.acceptAll("selfbest.org"),
                "nullmx.org", DomainConfig.acceptAll("nullmx.org"),
                "implicit.org", DomainConfig.acceptAll("implicit.org"),
                "noaddress.org", DomainConfig.acceptAll("noaddress.org"),
                "servfail.org", DomainConfig.acceptAll("servfail.org"),
                "nxdomain.org", DomainConfig.acceptAll("nxdomain.org"));
        BackstopConfig d = BackstopConfig.defaults();
        BackstopConfig config = new BackstopConfig("backstop.example.org", List.of("Backstop2.Example.ORG."), d.smtp(),
                domains, Map.of("routed.net", new HostPort("10.0.0.5", 25)), d.queue(), d.retry(), d.probe(), d.dns(),
                d.metrics(), d.admin());
        return new RouteResolver(config, dns, random);
    }

    private static List<String> hosts(Route route) {
        List<String> out = new ArrayList<>();
        ((Destinations) route).destinations().forEach(dest -> out.add(dest.host()));
        return out;
    }

    private static Destination mx(String host) {
        return Destination.mx(host);
    }

    private static Arguments row(String why, String domain, Route expected) {
        return Arguments.of(why, domain, expected);
    }

    private static InetAddress ip(String literal) {
        return AddressLiterals.parse(literal).orElseThrow();
    }
}
