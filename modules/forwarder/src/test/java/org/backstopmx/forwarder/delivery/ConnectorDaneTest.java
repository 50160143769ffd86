package org.backstopmx.forwarder.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.HostPort;
import org.backstopmx.core.config.TlsMode;
import org.backstopmx.forwarder.DnsjavaDnssecLookup;
import org.backstopmx.forwarder.DnsjavaMxResolver;
import org.backstopmx.forwarder.RouteResolver;
import org.backstopmx.forwarder.smtp.TlsPolicy;
import org.backstopmx.forwarder.sts.MtaSts;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.Nsd;
import org.backstopmx.testkit.SignedZone;
import org.backstopmx.testkit.TestCa;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The connector at {@code tls: dane} for domains with a configured route: the route's host name is trusted as
 * configured, its TLSA records at {@code _<port>._tcp.<host>} (the test primary's port) decide, from a signed zone
 * served by NSD. Skipped without NSD or ldnsutils, except in CI.
 */
class ConnectorDaneTest {
    private static Nsd nsd;
    private static FakePrimaryMx primary;
    private static Connector connector;
    private static final List<String> seen = new ArrayList<>();

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        boolean installed = Nsd.isInstalled() && SignedZone.toolsInstalled();
        if ("true".equals(System.getenv("CI"))) {
            assertThat(installed).as("nsd and ldnsutils (Debian packages) are needed in CI").isTrue();
        } else {
            assumeTrue(installed, "nsd or ldnsutils is not installed: apt-get install nsd ldnsutils");
        }
        Path ee = TestCa.create(dir, "ca").leaf("ee", "mx.good.dane.test", "dns:mx.good.dane.test");
        X509Certificate cert = (X509Certificate) TestCa.certificate(ee, "leaf");
        primary = FakePrimaryMx.start().capabilities("PIPELINING").offerStartTls(TestCa.serverContext(ee));
        String tlsa = " IN TLSA 3 1 1 ";
        String port = "_" + primary.port() + "._tcp.";
        String key = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getPublicKey().getEncoded()));
        SignedZone zone = SignedZone.sign(dir, "dane.test",
                "mx.good IN A 127.0.0.1", port + "mx.good" + tlsa + key,
                "mx.wrong IN A 127.0.0.1", port + "mx.wrong" + tlsa + "00".repeat(32),
                "mx.broken IN A 127.0.0.1", port + "mx.broken" + tlsa + key);
        zone.breakSignature(port + "mx.broken", "TLSA");
        nsd = Nsd.start(dir, Map.of("dane.test", zone.file()));
        Path anchor = Files.writeString(dir.resolve("anchor"), zone.trustAnchor() + "\n", StandardCharsets.US_ASCII);
        DnsConfig dns = new DnsConfig(nsd.address(), Duration.ofSeconds(2), anchor, false);

        Map<String, DomainConfig> domains = Map.of(
                "good.example", routed("good.example", "mx.good.dane.test"),
                "wrong.example", routed("wrong.example", "mx.wrong.dane.test"),
                "broken.example", routed("broken.example", "mx.broken.dane.test"));
        BackstopConfig config = BackstopConfig.defaults().withDomains(domains).withDns(dns);
        DnsjavaMxResolver addresses = new DnsjavaMxResolver(dns);
        ForwarderSettings settings = ForwarderSettings.defaults("backup.example")
                .withDomainTls(Map.of("good.example", TlsPolicy.DANE, "wrong.example", TlsPolicy.DANE,
                        "broken.example", TlsPolicy.DANE))
                .withDnssec(new DnsjavaDnssecLookup(dns, Clock.systemUTC()));
        connector = new Connector(new RouteResolver(config, addresses, new Random(1)), addresses, settings,
                new LearnedCapabilities(), (domain, level, result) -> seen.add(domain + " " + level + " " + result),
                MtaSts.of(dns, settings.tlsTrust().verifying(), null, Clock.systemUTC()));
    }

    private static DomainConfig routed(String name, String host) {
        return new DomainConfig(name, new HostPort(host, primary.port()), null, null, TlsMode.DANE);
    }

    @AfterAll
    static void stop() throws Exception {
        if (nsd != null) {
            nsd.close();
            primary.close();
        }
    }

    @Test
    void matchingRecordsOpenAnAuthenticatedSession() {
        Connector.Opened opened = connector.open("good.example");
        assertThat(opened).isInstanceOfSatisfying(Connector.Session.class, s -> {
            assertThat(s.client().isVerified()).isTrue();
            s.client().close();
        });
        assertThat(seen).contains("good.example DANE verified");
    }

    @Test
    void recordsThatMatchNothingDeferAfterTheHandshake() {
        Connector.Opened opened = connector.open("wrong.example");
        assertThat(opened).isInstanceOfSatisfying(Connector.Refused.class, r -> {
            assertThat(r.outcome()).isInstanceOf(DeliveryOutcome.Transient.class);
            assertThat(r.outcome().toString()).contains("dane-mismatch");
        });
        assertThat(seen).contains("wrong.example DANE dane-mismatch");
    }

    @Test
    void aBogusAnswerDefersWithoutContactingThePrimary() {
        int before = primary.connections();
        Connector.Opened opened = connector.open("broken.example");
        assertThat(opened).isInstanceOfSatisfying(Connector.Refused.class, r -> {
            assertThat(r.outcome()).isInstanceOf(DeliveryOutcome.Transient.class);
            assertThat(r.outcome().toString()).contains("dane-bogus");
            assertThat(r.contactedHost()).isFalse();
        });
        assertThat(primary.connections()).isEqualTo(before);
        assertThat(seen).contains("broken.example DANE dane-bogus");
    }
}
