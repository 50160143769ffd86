package org.backstopmx.forwarder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.forwarder.smtp.RelayClient;
import org.backstopmx.forwarder.smtp.RelayMessage;
import org.backstopmx.forwarder.smtp.RelaySettings;
import org.backstopmx.forwarder.smtp.SmtpTimeouts;
import org.backstopmx.forwarder.smtp.TlsPolicy;
import org.backstopmx.testkit.Dnsmasq;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.Nsd;
import org.backstopmx.testkit.SignedZone;
import org.backstopmx.testkit.TestCa;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * DANE (RFC 7672) end to end: a zone signed here with ldnsutils and served by a real NSD on loopback, its trust
 * anchor written by the test, dnsjava's validator in between, and primaries presenting certificates from a test CA
 * made with keytool. Each domain's MX host {@code mx.<domain>} has the TLSA records its name says.
 *
 * <p>Without NSD or ldnsutils the tests are skipped, except in CI ({@code CI=true}), where {@code .ci/run} installs
 * them and their absence fails.
 */
class DaneTest {
    private static final String SIGNED = "dane.test";
    private static final String UNSIGNED = "plain.test";
    private static Path dir;
    private static Nsd nsd;
    private static DnsConfig dns;
    private static String trustAnchor;
    private static FakePrimaryMx eePrimary;
    private static FakePrimaryMx taPrimary;

    @BeforeAll
    static void zones(@TempDir Path tmp) throws Exception {
        boolean installed = Nsd.isInstalled() && SignedZone.toolsInstalled();
        if ("true".equals(System.getenv("CI"))) {
            assertThat(installed).as("nsd and ldnsutils (Debian packages) are needed in CI").isTrue();
        } else {
            assumeTrue(installed, "nsd or ldnsutils is not installed: apt-get install nsd ldnsutils");
        }
        dir = tmp;
        TestCa ca = TestCa.create(dir, "ca");
        Path ee = ca.leaf("ee", "mx.ee.dane.test", "dns:mx.ee.dane.test");
        Path ta = ca.leaf("ta", "mx.ta201.dane.test", "dns:mx.ta201.dane.test,dns:*.ta211.dane.test");
        X509Certificate eeCert = (X509Certificate) TestCa.certificate(ee, "leaf");
        X509Certificate taCert = (X509Certificate) TestCa.certificate(ta, "leaf");
        X509Certificate caCert = ca.certificate();
        eePrimary = FakePrimaryMx.start().capabilities("PIPELINING").offerStartTls(TestCa.serverContext(ee));
        taPrimary = FakePrimaryMx.start().capabilities("PIPELINING").offerStartTls(TestCa.serverContext(ta));

        SignedZone zone = SignedZone.sign(dir, SIGNED,
                domain("ee311", "3 1 1 " + sha256(eeCert.getPublicKey().getEncoded())),
                domain("ee301", "3 0 1 " + sha256(eeCert.getEncoded())),
                domain("ee312", "3 1 2 " + sha512(eeCert.getPublicKey().getEncoded())),
                domain("ee310", "3 1 0 " + hex(eeCert.getPublicKey().getEncoded())),
                domain("mismatch", "3 1 1 " + sha256(taCert.getPublicKey().getEncoded()),
                        "2 0 1 " + sha256(taCert.getEncoded())),
                domain("ta201", "2 0 1 " + sha256(caCert.getEncoded())),
                domain("ta211", "2 1 1 " + sha256(caCert.getPublicKey().getEncoded())),
                domain("taname", "2 0 1 " + sha256(caCert.getEncoded())),
                domain("bogus", "3 1 1 " + sha256(eeCert.getPublicKey().getEncoded())),
                domain("bogusmx", "3 1 1 " + sha256(eeCert.getPublicKey().getEncoded())),
                domain("notlsa"),
                domain("pkix", "1 1 1 " + sha256(eeCert.getPublicKey().getEncoded())));
        zone.breakSignature("_25._tcp.mx.bogus", "TLSA");
        zone.breakSignature("bogusmx", "MX");
        // an unsigned zone whose TLSA record matches nothing: it must be ignored, not obeyed
        Path plain = SignedZone.unsigned(dir, UNSIGNED, domain("unsigned", "3 1 1 " + "00".repeat(32)));
        nsd = Nsd.start(dir, Map.of(SIGNED, zone.file(), UNSIGNED, plain));
        Path anchor = dir.resolve("trust-anchor.txt");
        trustAnchor = zone.trustAnchor();
        Files.writeString(anchor, trustAnchor + "\n", StandardCharsets.US_ASCII);
        dns = new DnsConfig(nsd.address(), Duration.ofSeconds(2), anchor, false);
    }

    /** {@code <name> MX 10 mx.<name>}, its address, and the TLSA records of {@code _25._tcp.mx.<name>}. */
    private static String domain(String name, String... tlsa) {
        StringBuilder b = new StringBuilder(name + " IN MX 10 mx." + name + "\nmx." + name + " IN A 127.0.0.1");
        for (String t : tlsa) {
            b.append("\n_25._tcp.mx.").append(name).append(" IN TLSA ").append(t);
        }
        return b.toString();
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {nsd, eePrimary, taPrimary}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // the next one still
            }
        }
    }

    /** domain, primary it reaches, expected result (verified, encrypted, or the TLS failure's label). */
    static Stream<Arguments> table() {
        return Stream.of(
                Arguments.of("ee311.dane.test", "ee", "verified"),
                Arguments.of("ee301.dane.test", "ee", "verified"),
                Arguments.of("ee312.dane.test", "ee", "verified"),
                Arguments.of("ee310.dane.test", "ee", "verified"),
                Arguments.of("mismatch.dane.test", "ee", "dane-mismatch"),
                Arguments.of("ta201.dane.test", "ta", "verified"),
                Arguments.of("ta211.dane.test", "ta", "verified"),
                Arguments.of("taname.dane.test", "ta", "name-mismatch"),
                Arguments.of("bogus.dane.test", "ee", "dane-bogus"),
                Arguments.of("bogusmx.dane.test", "ee", "dane-bogus"),
                Arguments.of("notlsa.dane.test", "ee", "encrypted"),
                Arguments.of("pkix.dane.test", "ee", "encrypted"),
                Arguments.of("unsigned.plain.test", "ee", "encrypted"));
    }

    @ParameterizedTest(name = "{0}: {2}")
    @MethodSource("table")
    void deliversOnlyWhatDaneAllows(String domain, String primary, String result) {
        assertOutcome(new DnsjavaDnssecLookup(dns, Clock.systemUTC()), domain, primary, result);
    }

    @Test
    void aSecureHostWithoutTlsaRecordsAndAnUnsignedOneAreOpportunisticAndUnusableRecordsRequireTls() {
        DaneGate gate = new DaneGate(new DnsjavaDnssecLookup(dns, Clock.systemUTC()));
        assertThat(verdict(gate, "notlsa.dane.test")).isEqualTo(new DaneGate.Lower(TlsPolicy.OPPORTUNISTIC,
                "no TLSA records at _25._tcp.mx.notlsa.dane.test"));
        assertThat(verdict(gate, "unsigned.plain.test")).isEqualTo(new DaneGate.Lower(TlsPolicy.OPPORTUNISTIC,
                "the MX answer of unsigned.plain.test is not signed"));
        assertThat(verdict(gate, "pkix.dane.test")).isInstanceOfSatisfying(DaneGate.Lower.class,
                l -> assertThat(l.level()).isEqualTo(TlsPolicy.REQUIRED));
    }

    @Test
    void signaturesPastTheirExpiryAreBogus() {
        // ldns-signzone signs for four weeks; the validator's clock moved past that
        Clock later = Clock.fixed(Instant.now().plus(Duration.ofDays(60)), ZoneOffset.UTC);
        assertOutcome(new DnsjavaDnssecLookup(dns, later), "ee311.dane.test", "ee", "dane-bogus");
    }

    @Test
    void trustingTheAdBitOfAValidatingResolver() {
        try (Dnsmasq resolver = Dnsmasq.validating(SIGNED, nsd.port(), trustAnchor)) {
            DnssecLookup viaResolver = new DnsjavaDnssecLookup(
                    new DnsConfig(resolver.address(), Duration.ofSeconds(2), null, true), Clock.systemUTC());
            assertOutcome(viaResolver, "ee311.dane.test", "ee", "verified");
            assertOutcome(viaResolver, "ta201.dane.test", "ta", "verified");
            assertOutcome(viaResolver, "mismatch.dane.test", "ee", "dane-mismatch");
            // dnsmasq answers a bogus record SERVFAIL, with or without saying why: either way nobody is contacted
            assertThat(viaResolver.tlsa("mx.bogus.dane.test", 25).status()).isIn(DnssecStatus.BOGUS, DnssecStatus.FAILED);
        }
    }

    @Test
    void theAdBitOfAServerThatDoesNotValidateIsNeverSet() {
        // NSD is authoritative and validates nothing: the same zone is insecure through it, so DANE does not apply
        DnssecLookup direct = new DnsjavaDnssecLookup(new DnsConfig(nsd.address(), Duration.ofSeconds(2), null, true),
                Clock.systemUTC());
        assertOutcome(direct, "mismatch.dane.test", "ee", "encrypted");
    }

    @Test
    void withoutTheTrustAnchorNothingIsSecure() throws Exception {
        Path otherAnchor = dir.resolve("other-anchor.txt");
        SignedZone other = SignedZone.sign(Files.createDirectories(dir.resolve("other")), SIGNED, "x IN A 127.0.0.1");
        Files.writeString(otherAnchor, other.trustAnchor() + "\n", StandardCharsets.US_ASCII);
        DnssecLookup lookup = new DnsjavaDnssecLookup(
                new DnsConfig(nsd.address(), Duration.ofSeconds(2), otherAnchor, false), Clock.systemUTC());
        // the zone's keys are not the anchor's: every answer from it fails validation
        assertThat(lookup.mx("ee311.dane.test").status()).isEqualTo(DnssecStatus.BOGUS);
    }

    private static DaneGate.ForHost verdict(DaneGate gate, String domain) {
        return gate.forHost(gate.plan(domain, false), Route.Destination.mx("mx." + domain));
    }

    private static void assertOutcome(DnssecLookup lookup, String domain, String primaryName, String result) {
        FakePrimaryMx primary = primaryName.equals("ta") ? taPrimary : eePrimary;
        int before = primary.transactions().size();
        DaneGate gate = new DaneGate(lookup);
        Route.Destination mx = Route.Destination.mx("mx." + domain);
        DaneGate.ForHost verdict = gate.forHost(gate.plan(domain, false), mx);
        if (verdict instanceof DaneGate.Refuse r) {
            assertThat(r.failure().label()).as(r.detail()).isEqualTo(result);
            assertThat(primary.transactions()).hasSize(before);
            return;
        }
        RelaySettings base = new RelaySettings("backup.example", SmtpTimeouts.all(Duration.ofSeconds(10)),
                TlsPolicy.DANE);
        byte[] body = "Subject: dane\r\n\r\nsecret\r\n".getBytes(StandardCharsets.US_ASCII);
        DeliveryOutcome out;
        // the MX host's name and its TLSA base (port 25), the test primary's port
        try (RelayClient client = RelayClient.open(mx.host(), InetAddress.getLoopbackAddress(), primary.port(),
                verdict.apply(base))) {
            out = FailurePolicy.outcomes(client.host(), client.send(new RelayMessage("s@origin.example", null, null,
                    body.length, List.of(EnvelopeRecipient.of("a@" + domain)),
                    () -> new ByteArrayInputStream(body)))).get(0);
            assertThat(client.tlsResult()).isEqualTo(result);
        }
        if (List.of("verified", "encrypted").contains(result)) {
            assertThat(out).isInstanceOf(DeliveryOutcome.Delivered.class);
        } else {
            // never bounced, never sent in clear: deferred with the reason in its text
            assertThat(out).isInstanceOf(DeliveryOutcome.Transient.class);
            assertThat(out.toString()).contains(result);
            assertThat(primary.transactions()).hasSize(before);
        }
    }

    private static String sha256(byte[] data) throws Exception {
        return hex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    private static String sha512(byte[] data) throws Exception {
        return hex(MessageDigest.getInstance("SHA-512").digest(data));
    }

    private static String hex(byte[] data) {
        return HexFormat.of().formatHex(data);
    }
}
