package org.backstopmx.smtpin;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.backstopmx.core.Metrics;
import org.backstopmx.core.SpfResult;
import org.backstopmx.core.config.AddressRange;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.core.config.ScreenConfig;
import org.backstopmx.core.config.SpfPolicy;
import org.backstopmx.testkit.Dnsmasq;
import org.backstopmx.testkit.RecordingMailQueue;
import org.backstopmx.testkit.SmtpTranscript;
import org.backstopmx.testkit.SpfRecords;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * SPF at MAIL FROM over real sockets, against the records of {@link SpfRecords} served by a real dnsmasq: the
 * headers the primary gets with {@code tag}, the refusals of {@code enforce}, the result kept in the envelope.
 */
class SpfScreeningTest {
    private static Dnsmasq dns;
    private static Dnsmasq.BlackHole blackHole;

    @BeforeAll
    static void serve() {
        blackHole = new Dnsmasq.BlackHole();
        dns = Dnsmasq.withSilentZone("slow.test", blackHole, SpfRecords.options().toArray(String[]::new));
    }

    @AfterAll
    static void stop() {
        dns.close();
        blackHole.close();
    }

    private static ServerFixture server(SpfPolicy policy, List<AddressRange> trusted) throws Exception {
        ScreenConfig screen = ScreenConfig.defaults().withTrusted(trusted).withSpf(policy, false);
        return ServerFixture.screening(screen, new DnsConfig(dns.address(), Duration.ofMillis(500)));
    }

    private static SmtpTranscript session(ServerFixture f) throws Exception {
        SmtpTranscript t = new SmtpTranscript(f.address(), InetAddress.getByName("127.0.0.1"), 10_000);
        assertThat(t.reply()).startsWith("220 ");
        assertThat(t.command("EHLO client.test")).startsWith("250");
        return t;
    }

    /** Sends one message from {@code sender}; returns the reply to its final dot. */
    private static String send(SmtpTranscript t, String sender, String headers) throws Exception {
        assertThat(t.command("MAIL FROM:<" + sender + ">")).startsWith("250");
        assertThat(t.command("RCPT TO:<alice@example.test>")).startsWith("250");
        assertThat(t.command("DATA")).startsWith("354");
        t.sendRaw(headers + "Subject: test\r\n\r\nHello\r\n.\r\n");
        return t.reply();
    }

    private static double count(ServerFixture f, String result) {
        return f.registry.get(Metrics.SCREEN_DECISIONS).tag("check", "spf").tag("result", result).counter().count();
    }

    private static String text(RecordingMailQueue.Stored stored) {
        return new String(stored.body(), StandardCharsets.UTF_8);
    }

    @Test
    void taggedMailCarriesOurHeadersFirstAndItsResultInTheEnvelope() throws Exception {
        try (ServerFixture f = server(SpfPolicy.TAG, List.of()); SmtpTranscript t = session(f)) {
            assertThat(send(t, "a@pass.spf.test",
                    "Authentication-Results: mx2.backstop.test; spf=pass smtp.mailfrom=forged.test\r\n"
                            + "Authentication-Results: mx.elsewhere.test; dkim=pass\r\n")).startsWith("250 2.0.0");

            RecordingMailQueue.Stored stored = f.queue.stored().get(0);
            String body = text(stored);
            assertThat(body).startsWith("Authentication-Results: mx2.backstop.test;\r\n"
                    + "\tspf=pass (domain of pass.spf.test designates 127.0.0.1 as permitted sender)"
                    + " smtp.mailfrom=pass.spf.test\r\n"
                    + "Received-SPF: pass (mx2.backstop.test: domain of pass.spf.test designates 127.0.0.1 as"
                    + " permitted sender)\r\n"
                    + "\treceiver=mx2.backstop.test; client-ip=127.0.0.1; envelope-from=\"a@pass.spf.test\";\r\n"
                    + "\thelo=client.test; identity=mailfrom;\r\n"
                    + "Received: from client.test ([127.0.0.1])\r\n");
            // the forged one of ours is gone, the other authserv-id's kept
            assertThat(body).doesNotContain("forged.test").contains("Authentication-Results: mx.elsewhere.test; dkim=pass\r\n");
            assertThat(stored.envelope().spf()).isEqualTo(SpfResult.PASS);
            assertThat(stored.envelope().size()).isEqualTo(stored.body().length);
            assertThat(count(f, "pass")).isEqualTo(1);
        }
    }

    @Test
    void withTagEvenAFailIsTakenAndMarked() throws Exception {
        try (ServerFixture f = server(SpfPolicy.TAG, List.of()); SmtpTranscript t = session(f)) {
            assertThat(send(t, "a@fail.spf.test", "")).startsWith("250 2.0.0");
            RecordingMailQueue.Stored stored = f.queue.stored().get(0);
            assertThat(text(stored)).startsWith("Authentication-Results: mx2.backstop.test;\r\n\tspf=fail ")
                    .contains("\r\nReceived-SPF: fail (");
            assertThat(stored.envelope().spf()).isEqualTo(SpfResult.FAIL);
            assertThat(count(f, "fail")).isEqualTo(1);
        }
    }

    @Test
    void enforceRefusesFailAndTempfailsTemperrorAndTakesTheRest() throws Exception {
        try (ServerFixture f = server(SpfPolicy.ENFORCE, List.of()); SmtpTranscript t = session(f)) {
            assertThat(t.command("MAIL FROM:<a@fail.spf.test>"))
                    .isEqualTo("550 5.7.23 SPF: fail.spf.test does not designate 127.0.0.1 as a permitted sender");
            assertThat(t.command("MAIL FROM:<a@x.slow.test>"))
                    .isEqualTo("451 4.7.24 SPF: cannot check x.slow.test for 127.0.0.1 now (DNS error), try again later");
            assertThat(send(t, "a@softfail.spf.test", "")).startsWith("250 2.0.0");
            assertThat(send(t, "a@permerror.spf.test", "")).startsWith("250 2.0.0");
            assertThat(send(t, "", "")).startsWith("250 2.0.0"); // HELO client.test: none
            assertThat(f.queue.stored()).extracting(s -> s.envelope().spf())
                    .containsExactly(SpfResult.SOFTFAIL, SpfResult.PERMERROR, SpfResult.NONE);
            assertThat(text(f.queue.stored().get(2))).contains("smtp.helo=client.test")
                    .contains("envelope-from=\"postmaster@client.test\"");
            for (String result : List.of("fail", "temperror", "softfail", "permerror", "none")) {
                assertThat(count(f, result)).as(result).isEqualTo(1);
            }
            assertThat(count(f, "pass")).isZero();
        }
    }

    @Test
    void aTrustedClientIsNotCheckedButForgedHeadersOfOursStillGo() throws Exception {
        try (ServerFixture f = server(SpfPolicy.ENFORCE, List.of(AddressRange.parse("127.0.0.0/8")));
                SmtpTranscript t = session(f)) {
            assertThat(send(t, "a@fail.spf.test", "Authentication-Results: mx2.backstop.test; spf=pass\r\n"))
                    .startsWith("250 2.0.0");
            RecordingMailQueue.Stored stored = f.queue.stored().get(0);
            assertThat(text(stored)).startsWith("Received: ").doesNotContain("Authentication-Results")
                    .doesNotContain("Received-SPF");
            assertThat(stored.envelope().spf()).isNull();
            assertThat(count(f, "fail")).isZero();
        }
    }

    @Test
    void withSpfOffNothingIsCheckedOrChanged() throws Exception {
        try (ServerFixture f = server(SpfPolicy.OFF, List.of()); SmtpTranscript t = session(f)) {
            assertThat(send(t, "a@fail.spf.test", "Authentication-Results: mx2.backstop.test; spf=pass\r\n"))
                    .startsWith("250 2.0.0");
            RecordingMailQueue.Stored stored = f.queue.stored().get(0);
            assertThat(text(stored)).startsWith("Received: ")
                    .contains("\r\nAuthentication-Results: mx2.backstop.test; spf=pass\r\n");
            assertThat(stored.envelope().spf()).isNull();
        }
    }
}
