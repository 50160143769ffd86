package org.backstopmx.forwarder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.core.config.HostPort;
import org.backstopmx.testkit.Dnsmasq;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link DnsjavaMxResolver} against a real dnsmasq on loopback: every DNS outcome the forwarder must tell apart. */
class DnsjavaMxResolverTest {
    private static final Duration TIMEOUT = Duration.ofMillis(700);
    private static Dnsmasq dns;
    private static DnsjavaMxResolver resolver;

    @BeforeAll
    static void start() {
        dns = Dnsmasq.start("--local-ttl=300",
                "--mx-host=multi.test,mx1.multi.test,10", "--mx-host=multi.test,MX2.multi.test,10",
                "--mx-host=multi.test,mx3.multi.test,20",
                "--host-record=mx1.multi.test,127.0.0.11,::11", "--host-record=mx2.multi.test,127.0.0.12",
                "--host-record=multi.test,127.0.0.10",
                "--host-record=nodata.test,127.0.0.20,::20",
                "--mx-host=nullmx.test,.,0",
                "--host-record=target.test,127.0.0.40", "--mx-host=target.test,mx.target.test,5",
                "--cname=alias.test,target.test",
                "--host-record=v6only.test,::50");
        resolver = new DnsjavaMxResolver(new DnsConfig(dns.address(), TIMEOUT));
    }

    @AfterAll
    static void stop() {
        dns.close();
    }

    @Test
    void mxSetWithPreferencesAndTtl() {
        assertThat(resolver.mx("multi.test")).isInstanceOfSatisfying(MxAnswer.Records.class, r ->
                assertThat(r.records()).containsExactlyInAnyOrder(
                        new MxRecord(10, "mx1.multi.test", 300),
                        new MxRecord(10, "mx2.multi.test", 300), // lower-cased
                        new MxRecord(20, "mx3.multi.test", 300)));
    }

    @Test
    void namesAreCaseInsensitiveAndMayEndWithADot() {
        assertThat(resolver.mx("MULTI.Test.")).isInstanceOfSatisfying(MxAnswer.Records.class, r ->
                assertThat(r.records()).hasSize(3));
    }

    @Test
    void noMxRecordsIsNodataNotAnError() {
        assertThat(resolver.mx("nodata.test")).isEqualTo(new MxAnswer.NoRecords());
    }

    @Test
    void nullMx() {
        assertThat(resolver.mx("nullmx.test")).isEqualTo(new MxAnswer.NullMx());
    }

    @Test
    void nxdomain() {
        assertThat(resolver.mx("no-such-domain.test")).isEqualTo(new MxAnswer.NxDomain());
        assertThat(resolver.addresses("no-such-host.test")).isEqualTo(new AddressAnswer.NxDomain());
    }

    @Test
    void notADomainNameAtAllIsNxdomainWithoutAsking() {
        assertThat(resolver.mx("a..b")).isEqualTo(new MxAnswer.NxDomain());
        assertThat(resolver.mx("")).isEqualTo(new MxAnswer.NxDomain());
    }

    @Test
    void cnameIsFollowed() {
        assertThat(resolver.mx("alias.test")).isEqualTo(MxAnswer.Records.of(new MxRecord(5, "mx.target.test", 300)));
        assertThat(resolver.addresses("alias.test")).isEqualTo(new AddressAnswer.Addresses(List.of(ip("127.0.0.40"))));
    }

    @Test
    void addressesOfBothFamiliesIpv4First() {
        assertThat(resolver.addresses("mx1.multi.test"))
                .isEqualTo(new AddressAnswer.Addresses(List.of(ip("127.0.0.11"), ip("::11"))));
        assertThat(resolver.addresses("mx2.multi.test"))
                .isEqualTo(new AddressAnswer.Addresses(List.of(ip("127.0.0.12"))));
        assertThat(resolver.addresses("v6only.test")).isEqualTo(new AddressAnswer.Addresses(List.of(ip("::50"))));
    }

    @Test
    void nameWithoutAddresses() {
        assertThat(resolver.addresses("nullmx.test")).isEqualTo(new AddressAnswer.NoAddresses());
    }

    @Test
    void servfail() {
        try (Dnsmasq validating = Dnsmasq.servfailInFrontOf(dns)) {
            DnsjavaMxResolver r = new DnsjavaMxResolver(new DnsConfig(validating.address(), TIMEOUT));
            assertThat(r.mx("multi.test")).isInstanceOfSatisfying(MxAnswer.TemporaryFailure.class, f ->
                    assertThat(f.failure()).isEqualTo(DnsFailure.SERVFAIL));
            assertThat(r.addresses("mx1.multi.test")).isInstanceOfSatisfying(AddressAnswer.TemporaryFailure.class, f ->
                    assertThat(f.failure()).isEqualTo(DnsFailure.SERVFAIL));
        }
    }

    @Test
    void refusedOutsideWhatTheServerServes() {
        assertThat(resolver.mx("example.org")).isInstanceOfSatisfying(MxAnswer.TemporaryFailure.class, f ->
                assertThat(f.failure()).isEqualTo(DnsFailure.REFUSED));
    }

    @Test
    void timeoutWhenTheServerNeverAnswers() {
        try (Dnsmasq.BlackHole blackHole = new Dnsmasq.BlackHole()) {
            DnsjavaMxResolver r = new DnsjavaMxResolver(new DnsConfig(blackHole.address(), TIMEOUT));
            long start = System.nanoTime();
            assertThat(r.mx("multi.test")).isInstanceOfSatisfying(MxAnswer.TemporaryFailure.class, f ->
                    assertThat(f.failure()).as(f.detail()).isEqualTo(DnsFailure.TIMEOUT));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(TIMEOUT.multipliedBy(3));
        }
    }

    @Test
    void timeoutForOneZoneWhileTheServerAnswersTheRest() {
        try (Dnsmasq.BlackHole blackHole = new Dnsmasq.BlackHole();
             Dnsmasq server = Dnsmasq.withSilentZone("slow.test", blackHole, "--mx-host=fast.test,mx.fast.test,10")) {
            DnsjavaMxResolver r = new DnsjavaMxResolver(new DnsConfig(server.address(), TIMEOUT));
            assertThat(r.mx("fast.test")).isInstanceOf(MxAnswer.Records.class);
            assertThat(r.mx("a.slow.test")).isInstanceOfSatisfying(MxAnswer.TemporaryFailure.class, f ->
                    assertThat(f.failure()).as(f.detail()).isEqualTo(DnsFailure.TIMEOUT));
        }
    }

    @Test
    void routeOverRealDns() {
        // we are mx3 at preference 20: the two hosts at 10 remain
        BackstopConfig d = BackstopConfig.defaults();
        BackstopConfig config = new BackstopConfig("mx3.multi.test", List.of(), d.smtp(), d.domains(), d.routes(),
                d.queue(), d.retry(), d.probe(), d.dns(), d.metrics(), d.admin());
        RouteResolver routes = new RouteResolver(config, resolver, new SplittableRandom(7));
        assertThat(routes.resolve("multi.test")).isInstanceOfSatisfying(Route.Destinations.class, r ->
                assertThat(r.destinations()).extracting(Route.Destination::host)
                        .containsExactlyInAnyOrder("mx1.multi.test", "mx2.multi.test"));
        assertThat(routes.resolve("nodata.test")).isEqualTo(Route.Destinations.of(
                new Route.Destination("nodata.test", 25, List.of(ip("127.0.0.20"), ip("::20")))));
        assertThat(routes.resolve("nullmx.test")).isInstanceOf(Route.Fail.class);
        assertThat(routes.resolve("no-such-domain.test")).isInstanceOf(Route.Fail.class);
    }

    @Test
    void unreachableServerIsANetworkFailure() throws Exception {
        int closed;
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            closed = s.getLocalPort();
        }
        DnsjavaMxResolver r = new DnsjavaMxResolver(new DnsConfig(new HostPort("127.0.0.1", closed), TIMEOUT));
        assertThat(r.mx("multi.test")).isInstanceOfSatisfying(MxAnswer.TemporaryFailure.class, f ->
                assertThat(f.failure()).as(f.detail()).isEqualTo(DnsFailure.NETWORK));
    }

    @Test
    void answersAreCachedForTheirTtl() throws Exception {
        Dnsmasq shortLived = Dnsmasq.start("--local-ttl=1", "--mx-host=cached.test,mx.cached.test,10",
                "--host-record=mx.cached.test,127.0.0.60");
        DnsjavaMxResolver r;
        MxAnswer first;
        AddressAnswer firstAddresses;
        try (shortLived) {
            r = new DnsjavaMxResolver(new DnsConfig(shortLived.address(), TIMEOUT));
            first = r.mx("cached.test");
            firstAddresses = r.addresses("mx.cached.test");
            assertThat(first).isEqualTo(MxAnswer.Records.of(new MxRecord(10, "mx.cached.test", 1)));
        }
        // the server is gone: within the TTL the cache answers
        assertThat(r.mx("cached.test")).isEqualTo(first);
        assertThat(r.addresses("mx.cached.test")).isEqualTo(firstAddresses);
        // after the TTL it asks again, and fails
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        MxAnswer later = r.mx("cached.test");
        while (later instanceof MxAnswer.Records && System.nanoTime() < deadline) {
            Thread.sleep(100);
            later = r.mx("cached.test");
        }
        assertThat(later).isInstanceOf(MxAnswer.TemporaryFailure.class);
    }

    @Test
    void withoutAConfiguredServerTheSystemResolversAreUsed() {
        // no lookup: the machine running the tests may have no DNS at all
        assertThat(new DnsjavaMxResolver(DnsConfig.defaults())).isNotNull();
    }

    @Test
    void aServerNameThatDoesNotResolveIsRefusedAtConstruction() {
        assertThatThrownBy(() -> new DnsjavaMxResolver(new DnsConfig(new HostPort("no-such-host.invalid", 53), TIMEOUT)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dns.server");
    }

    private static InetAddress ip(String literal) {
        return AddressLiterals.parse(literal).orElseThrow();
    }
}
