package org.backstopmx.forwarder.sts;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.forwarder.FailurePolicy;
import org.backstopmx.forwarder.smtp.RelayClient;
import org.backstopmx.forwarder.smtp.RelayMessage;
import org.backstopmx.forwarder.smtp.RelaySettings;
import org.backstopmx.forwarder.smtp.SmtpTimeouts;
import org.backstopmx.forwarder.smtp.TlsPolicy;
import org.backstopmx.forwarder.smtp.TlsTrust;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.testkit.ConnectTunnel;
import org.backstopmx.testkit.Dnsmasq;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.MutableClock;
import org.backstopmx.testkit.TestCa;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code mta-sts} level against real peers: the TXT records from dnsmasq on loopback, the policies over HTTPS
 * from the JDK's {@code HttpsServer} (reached through a CONNECT tunnel, so that the client checks the name
 * {@code mta-sts.<domain>}), primaries presenting certificates of a test CA; the clock moved for {@code max_age}.
 */
class MtaStsTest {
    private static final String ENFORCE = "version: STSv1\nmode: enforce\nmx: *.enforce.test\nmax_age: 86400\n";
    private static final String TESTING = "version: STSv1\nmode: testing\nmx: mx1.testing.test\nmax_age: 86400\n";

    private static TestCa ca;
    private static TlsTrust trust;
    private static PolicyServer policies;
    private static ConnectTunnel tunnel;
    private static Dnsmasq dns;
    private static FakePrimaryMx good;
    private static FakePrimaryMx wrongName;

    @TempDir
    Path dir;
    private final MutableClock clock = MutableClock.startingAt("2026-12-01T10:00:00Z");
    private final List<String> reported = new ArrayList<>();

    @BeforeAll
    static void peers(@TempDir Path certs) throws Exception {
        ca = TestCa.create(certs, "test-ca");
        trust = TlsTrust.caFile(ca.pem());
        policies = new PolicyServer(ca.server("policy", List.of("mta-sts.enforce.test", "mta-sts.testing.test",
                "mta-sts.cached.test", "mta-sts.broken.test")));
        tunnel = ConnectTunnel.to(policies.port());
        dns = Dnsmasq.start("--txt-record=_mta-sts.enforce.test,v=STSv1; id=1",
                "--txt-record=_mta-sts.testing.test,v=STSv1; id=1",
                "--txt-record=_mta-sts.cached.test,v=STSv1; id=1",
                "--txt-record=_mta-sts.broken.test,v=STSv1; id=1",
                "--txt-record=_mta-sts.unnamed.test,v=STSv1; id=1");
        good = FakePrimaryMx.start().offerStartTls(ca.server("mx", List.of("mx1.enforce.test", "mx1.testing.test")));
        wrongName = FakePrimaryMx.start().offerStartTls(ca.server("wrong", List.of("mx.elsewhere.test")));
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {good, wrongName, dns, tunnel, policies}) {
            if (c != null) {
                c.close();
            }
        }
    }

    @BeforeEach
    void servePolicies() {
        policies.answer("enforce.test", PolicyServer.Answer.policy(ENFORCE))
                .answer("testing.test", PolicyServer.Answer.policy(TESTING))
                .answer("cached.test", PolicyServer.Answer.policy(ENFORCE.replace("*.enforce.test", "mx1.cached.test")))
                .answer("broken.test", PolicyServer.Answer.policy("<html>not a policy</html>\n"));
    }

    private MtaSts sts(Dnsmasq server) {
        return new MtaSts(new StsTxtLookup(new DnsConfig(server.address(), Duration.ofSeconds(5))),
                new StsPolicyFetcher(trust.verifying(), tunnel.selector(), Duration.ofSeconds(10)), dir, clock);
    }

    private RelayClient open(MtaSts sts, String domain, String mx, FakePrimaryMx primary) {
        RelaySettings relay = new RelaySettings("backup.example", SmtpTimeouts.all(Duration.ofSeconds(10)),
                TlsPolicy.MTA_STS, trust);
        return sts.open(domain, mx, InetAddress.getLoopbackAddress(), primary.port(), relay, reported::add);
    }

    private static DeliveryOutcome send(RelayClient client) {
        byte[] body = "Subject: sts\r\n\r\nsecret\r\n".getBytes(StandardCharsets.US_ASCII);
        return FailurePolicy.outcomes(client.host(), client.send(new RelayMessage("s@origin.example", null, null,
                body.length, List.of(EnvelopeRecipient.of("a@primary.example")),
                () -> new ByteArrayInputStream(body)))).get(0);
    }

    @Test
    void enforceDeliversToAMatchingMxOverVerifiedTls() {
        try (RelayClient c = open(sts(dns), "enforce.test", "mx1.enforce.test", good)) {
            assertThat(c.isVerified()).isTrue();
            assertThat(c.tlsResult()).isEqualTo("verified");
            assertThat(send(c)).isInstanceOf(DeliveryOutcome.Delivered.class);
        }
        assertThat(tunnel.targets()).contains("mta-sts.enforce.test:443");
        assertThat(reported).isEmpty();
    }

    @Test
    void enforceNeverConnectsToAnMxThePolicyDoesNotName() {
        int before = good.connections();
        try (RelayClient c = open(sts(dns), "enforce.test", "mx1.elsewhere.test", good)) {
            assertThat(c.isOpen()).isFalse();
            assertThat(c.tlsResult()).isEqualTo("sts-mx-mismatch");
            DeliveryOutcome out = send(c);
            assertThat(out).isInstanceOf(DeliveryOutcome.Transient.class);
            assertThat(out.toString()).contains("sts-mx-mismatch").contains("*.enforce.test");
        }
        assertThat(good.connections()).isEqualTo(before);
    }

    @Test
    void enforceDefersAMatchingMxWhoseCertificateIsForAnotherName() {
        int before = wrongName.transactions().size();
        try (RelayClient c = open(sts(dns), "enforce.test", "mx1.enforce.test", wrongName)) {
            assertThat(c.tlsResult()).isEqualTo("name-mismatch");
            assertThat(send(c)).isInstanceOf(DeliveryOutcome.Transient.class);
        }
        assertThat(wrongName.transactions()).hasSize(before);
    }

    @Test
    void testingDeliversDespiteAWrongNameAndAnUnnamedMxAndReportsBoth() {
        MtaSts sts = sts(dns);
        try (RelayClient c = open(sts, "testing.test", "mx1.testing.test", wrongName)) {
            assertThat(c.tlsResult()).isEqualTo("encrypted");
            assertThat(send(c)).isInstanceOf(DeliveryOutcome.Delivered.class);
        }
        try (RelayClient c = open(sts, "testing.test", "mx2.testing.test", good)) {
            assertThat(send(c)).isInstanceOf(DeliveryOutcome.Delivered.class);
        }
        assertThat(reported).containsExactly("name-mismatch", "sts-mx-mismatch");
    }

    @Test
    void aPolicyThatCannotBeFetchedOrParsedLetsTheMailGoAsWithoutOneAndIsCounted() {
        MtaSts sts = sts(dns);
        // broken.test serves HTML; unnamed.test has no policy host on the certificate (its name check fails)
        for (String domain : List.of("broken.test", "unnamed.test")) {
            assertThat(sts.policy(domain)).isInstanceOfSatisfying(MtaSts.NoPolicy.class,
                    n -> assertThat(n.unavailable()).isTrue());
            try (RelayClient c = open(sts, domain, "mx1." + domain, good)) {
                assertThat(c.tlsResult()).isEqualTo("encrypted");
            }
        }
        assertThat(reported).containsExactly("sts-policy-unavailable", "sts-policy-unavailable");
        assertThat(sts.policy("nosts.test")).isEqualTo(new MtaSts.NoPolicy(false, "Absent[]"));
    }

    @Test
    void cachedForMaxAgeThenFetchedAgainAndAFailedFetchIsNotRepeatedAtOnce() {
        MtaSts sts = sts(dns);
        int before = policies.requests();
        assertThat(sts.policy("cached.test")).isInstanceOf(MtaSts.Applies.class);
        policies.answer("cached.test", PolicyServer.Answer.status(500));
        clock.advance(Duration.ofHours(23));
        assertThat(sts.policy("cached.test")).isInstanceOf(MtaSts.Applies.class); // same id, unexpired: no fetch
        assertThat(policies.requests()).isEqualTo(before + 1);

        clock.advance(Duration.ofHours(1)); // max_age reached
        assertThat(sts.policy("cached.test")).isInstanceOf(MtaSts.NoPolicy.class);
        assertThat(sts.policy("cached.test")).isInstanceOf(MtaSts.NoPolicy.class);
        assertThat(policies.requests()).isEqualTo(before + 2);

        policies.answer("cached.test", PolicyServer.Answer.policy(TESTING));
        clock.advance(MtaSts.RETRY_AFTER_FAILURE);
        assertThat(sts.policy("cached.test")).isInstanceOfSatisfying(MtaSts.Applies.class,
                a -> assertThat(a.policy().mode()).isEqualTo(StsPolicy.Mode.TESTING));
        assertThat(policies.requests()).isEqualTo(before + 3);
    }

    @Test
    void aRestartKeepsThePolicyANewIdFetchesItAndAFailedFetchKeepsTheCachedOne() {
        sts(dns).policy("cached.test");
        int before = policies.requests();
        policies.answer("cached.test", PolicyServer.Answer.status(503));
        // a new instance over the same directory: the file answers, with no request
        assertThat(sts(dns).policy("cached.test")).isEqualTo(new MtaSts.Applies(
                new StsPolicy(StsPolicy.Mode.ENFORCE, List.of("mx1.cached.test"), Duration.ofDays(1)), "1"));
        assertThat(policies.requests()).isEqualTo(before);

        try (Dnsmasq newId = Dnsmasq.start("--txt-record=_mta-sts.cached.test,v=STSv1; id=2");
                Dnsmasq noRecord = Dnsmasq.start()) {
            // the id changed but the policy host fails: the cached policy stays in force
            assertThat(sts(newId).policy("cached.test")).isInstanceOfSatisfying(MtaSts.Applies.class,
                    a -> assertThat(a.id()).isEqualTo("1"));
            assertThat(policies.requests()).isEqualTo(before + 1);
            // the TXT record gone: the cached policy still stands until max_age
            assertThat(sts(noRecord).policy("cached.test")).isInstanceOf(MtaSts.Applies.class);

            policies.answer("cached.test", PolicyServer.Answer.policy(TESTING));
            assertThat(sts(newId).policy("cached.test")).isInstanceOfSatisfying(MtaSts.Applies.class, a -> {
                assertThat(a.id()).isEqualTo("2");
                assertThat(a.policy().mode()).isEqualTo(StsPolicy.Mode.TESTING);
            });
        }
    }
}
