package org.backstopmx.forwarder.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.forwarder.FailurePolicy;
import org.backstopmx.testkit.FakePrimaryMx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** STARTTLS against a primary with a self-signed certificate made by the JDK's keytool for the test. */
class RelayClientTlsTest {
    private static final char[] PASSWORD = "changeit".toCharArray();
    private static SSLContext serverContext;
    private static FakePrimaryMx primary;

    @BeforeAll
    static void certificate(@TempDir Path dir) throws Exception {
        Path keystore = dir.resolve("primary.p12");
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Process p = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "primary", "-keyalg", "RSA",
                "-keysize", "2048", "-validity", "2", "-dname", "CN=fake.primary", "-storetype", "PKCS12",
                "-keystore", keystore.toString(), "-storepass", new String(PASSWORD), "-keypass", new String(PASSWORD))
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output).isZero();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            ks.load(in, PASSWORD);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, PASSWORD);
        serverContext = SSLContext.getInstance("TLS");
        serverContext.init(kmf.getKeyManagers(), null, null);
        primary = FakePrimaryMx.start().capabilities("PIPELINING", "8BITMIME").offerStartTls(serverContext);
    }

    @AfterAll
    static void stop() throws Exception {
        if (primary != null) {
            primary.close();
        }
    }

    @ParameterizedTest
    @EnumSource(value = TlsPolicy.class, names = {"OPPORTUNISTIC", "REQUIRED"})
    void startTlsWhenOfferedThenEhloAgain(TlsPolicy policy) {
        int before = primary.commands().size();
        byte[] body = "Subject: tls\r\n\r\n.secret\r\n".getBytes(StandardCharsets.US_ASCII);
        RelaySettings settings = new RelaySettings("backup.example", SmtpTimeouts.all(Duration.ofSeconds(10)), policy);
        try (RelayClient client = RelayClient.open("localhost", InetAddress.getLoopbackAddress(), primary.port(),
                settings)) {
            assertThat(client.isTls()).isTrue();
            assertThat(client.capabilities().startTls()).isFalse();
            assertThat(client.capabilities().pipelining()).isTrue();
            List<DeliveryOutcome> out = FailurePolicy.outcomes(client.host(), client.send(new RelayMessage("s@origin.example",
                    null, null, body.length, List.of(EnvelopeRecipient.of("a@primary.example")),
                    () -> new ByteArrayInputStream(body))));
            assertThat(out.get(0)).isInstanceOf(DeliveryOutcome.Delivered.class);
        }
        assertThat(primary.verbs().subList(before, primary.verbs().size()))
                .containsExactly("EHLO", "STARTTLS", "EHLO", "MAIL", "RCPT", "DATA", "QUIT");
        FakePrimaryMx.Transaction t = primary.transactions().get(primary.transactions().size() - 1);
        assertThat(t.tls()).isTrue();
        assertThat(t.data()).isEqualTo(body);
    }
}
