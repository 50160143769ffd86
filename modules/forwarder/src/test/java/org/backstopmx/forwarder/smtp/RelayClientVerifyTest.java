package org.backstopmx.forwarder.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.forwarder.FailurePolicy;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.TestCa;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Authenticated STARTTLS against primaries presenting certificates from a test CA made here with the JDK's keytool:
 * which levels deliver and which defer, with which reason.
 */
class RelayClientVerifyTest {
    private static final String NAME = "mx.primary.test";
    private static final Map<String, FakePrimaryMx> primaries = new HashMap<>();
    private static final Map<String, String> pins = new HashMap<>();
    private static Path dir;
    private static TlsTrust trust;

    @BeforeAll
    static void certificates(@TempDir Path tmp) throws Exception {
        dir = tmp;
        TestCa ca = TestCa.create(dir, "ca");
        TestCa other = TestCa.create(dir, "other");
        ca.leaf("good", NAME, "dns:" + NAME);
        ca.leaf("wrongname", NAME, "dns:mx.elsewhere.test");
        ca.leaf("expired", NAME, "dns:" + NAME, "-startdate", "-20d", "-validity", "10");
        other.leaf("otherca", NAME, "dns:" + NAME);
        TestCa.keytool(dir, "-genkeypair", "-alias", "leaf", "-keyalg", "EC", "-dname", "CN=" + NAME, "-ext",
                "san=dns:" + NAME, "-validity", "30", "-keystore", "selfsigned.p12");
        trust = TlsTrust.caFile(ca.pem());
        for (String c : List.of("good", "wrongname", "expired", "otherca", "selfsigned")) {
            Path p12 = dir.resolve(c + ".p12");
            pins.put(c, TlsPins.of((X509Certificate) TestCa.certificate(p12, "leaf")));
            primaries.put(c, FakePrimaryMx.start().capabilities("PIPELINING").offerStartTls(TestCa.serverContext(p12)));
        }
        primaries.put("plain", FakePrimaryMx.start().capabilities("PIPELINING"));
    }

    @AfterAll
    static void stop() throws Exception {
        for (FakePrimaryMx p : primaries.values()) {
            p.close();
        }
    }

    /** certificate, level, expected result (verified, encrypted, plain or the failure's label). */
    static Stream<Arguments> table() {
        return Stream.of(
                Arguments.of("good", TlsPolicy.VERIFY, "verified"),
                Arguments.of("wrongname", TlsPolicy.VERIFY, "name-mismatch"),
                Arguments.of("expired", TlsPolicy.VERIFY, "expired"),
                Arguments.of("selfsigned", TlsPolicy.VERIFY, "untrusted"),
                Arguments.of("otherca", TlsPolicy.VERIFY, "untrusted"),
                Arguments.of("plain", TlsPolicy.VERIFY, "starttls-not-offered"),
                Arguments.of("good", TlsPolicy.FINGERPRINT, "pin-mismatch"),
                Arguments.of("plain", TlsPolicy.FINGERPRINT, "starttls-not-offered"),
                Arguments.of("good", TlsPolicy.REQUIRED, "encrypted"),
                Arguments.of("wrongname", TlsPolicy.REQUIRED, "encrypted"),
                Arguments.of("expired", TlsPolicy.REQUIRED, "encrypted"),
                Arguments.of("selfsigned", TlsPolicy.REQUIRED, "encrypted"),
                Arguments.of("otherca", TlsPolicy.REQUIRED, "encrypted"),
                Arguments.of("selfsigned", TlsPolicy.OPPORTUNISTIC, "encrypted"),
                Arguments.of("expired", TlsPolicy.OPPORTUNISTIC, "encrypted"),
                Arguments.of("plain", TlsPolicy.OPPORTUNISTIC, "plain"));
    }

    @ParameterizedTest(name = "{0} at {1}: {2}")
    @MethodSource("table")
    void deliversOnlyWhenTheLevelIsMet(String cert, TlsPolicy level, String result) {
        // the fingerprint rows pin another certificate's key, so that they cannot pass
        assertOutcome(cert, level, trust.withPins(List.of(pins.get("otherca"))), result);
    }

    @Test
    void rightPinDelivers() {
        assertOutcome("selfsigned", TlsPolicy.FINGERPRINT, TlsTrust.DEFAULT.withPins(List.of(pins.get("selfsigned"))),
                "verified");
    }

    @Test
    void oldAndNewPinsDuringRotationDeliverWithColonsAndCapitals() {
        String colons = pins.get("wrongname").toUpperCase().replaceAll("(..)(?!$)", "$1:");
        assertOutcome("wrongname", TlsPolicy.FINGERPRINT, TlsTrust.DEFAULT.withPins(List.of(pins.get("good"), colons)),
                "verified");
        assertOutcome("good", TlsPolicy.FINGERPRINT, TlsTrust.DEFAULT.withPins(List.of(pins.get("good"), colons)),
                "verified");
    }

    private static void assertOutcome(String cert, TlsPolicy level, TlsTrust t, String result) {
        FakePrimaryMx primary = primaries.get(cert);
        int before = primary.transactions().size();
        byte[] body = "Subject: tls\r\n\r\nsecret\r\n".getBytes(StandardCharsets.US_ASCII);
        RelaySettings settings = new RelaySettings("backup.example", SmtpTimeouts.all(Duration.ofSeconds(10)), level, t);
        List<DeliveryOutcome> out;
        try (RelayClient client = RelayClient.open(NAME, InetAddress.getLoopbackAddress(), primary.port(), settings)) {
            out = FailurePolicy.outcomes(client.host(), client.send(new RelayMessage("s@origin.example", null, null,
                    body.length, List.of(EnvelopeRecipient.of("a@primary.example")),
                    () -> new ByteArrayInputStream(body))));
            assertThat(client.tlsResult()).isEqualTo(result);
        }
        boolean delivers = List.of("verified", "encrypted", "plain").contains(result);
        if (delivers) {
            assertThat(out.get(0)).isInstanceOf(DeliveryOutcome.Delivered.class);
        } else {
            // never bounced, never sent in clear: deferred with the reason in its text
            assertThat(out.get(0)).isInstanceOf(DeliveryOutcome.Transient.class);
            assertThat(out.get(0).toString()).contains(result);
            assertThat(primary.transactions()).hasSize(before);
        }
    }
}
