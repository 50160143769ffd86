package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.core.config.HostPort;
import org.backstopmx.core.config.SpfPolicy;
import org.backstopmx.testkit.Dnsmasq;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.SmtpTranscript;
import org.backstopmx.testkit.SpfRecords;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SPF from intake to bounce, with the records served by a real dnsmasq: the primary gets our SPF headers on what it
 * takes, and of the two recipients it refuses, only the one whose sender passed SPF is bounced; the other's DSN is
 * suppressed and counted in {@code /metrics}.
 */
class SpfEndToEndTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void theSenderThatFailedSpfGetsNoBounceAndTheOneThatPassedDoes() throws Exception {
        try (Dnsmasq dns = SpfRecords.serve();
                FakePrimaryMx primary = FakePrimaryMx.start();
                FakePrimaryMx senders = FakePrimaryMx.start()) {
            primary.recipientReply("bob@example.test", "550 5.1.1 <bob@example.test>: Recipient address rejected");
            BackstopConfig base = InProcessConfig.serving(dir, primary.port(), Duration.ofSeconds(1));
            HostPort sendersMx = new HostPort("127.0.0.1", senders.port());
            BackstopConfig config = base
                    .withDns(new DnsConfig(dns.address(), Duration.ofSeconds(2)))
                    .withScreen(base.screen().withSpf(SpfPolicy.TAG, false))
                    .withRoutes(Map.of("pass.spf.test", sendersMx, "fail.spf.test", sendersMx));
            try (Appliance appliance = Appliance.start(config, Clock.systemUTC());
                    SmtpTranscript t = new SmtpTranscript(appliance.smtpAddress(),
                            // not 127.0.0.1: that is the primary's address, which is never screened
                            InetAddress.getByName("127.0.0.2"), 10_000)) {
                assertThat(t.reply()).startsWith("220 ");
                assertThat(t.command("EHLO client.test")).startsWith("250");
                for (String sender : new String[] {"a@pass.spf.test", "a@fail.spf.test"}) {
                    assertThat(t.command("MAIL FROM:<" + sender + ">")).startsWith("250");
                    assertThat(t.command("RCPT TO:<alice@example.test>")).startsWith("250");
                    assertThat(t.command("RCPT TO:<bob@example.test>")).startsWith("250");
                    assertThat(t.command("DATA")).startsWith("354");
                    t.sendRaw("Subject: from " + sender + "\r\n\r\nHello\r\n.\r\n");
                    assertThat(t.reply()).startsWith("250 2.0.0");
                }

                await().atMost(WAIT).until(() -> primary.transactions().size() == 2
                        && appliance.queue().list(10).isEmpty() && suppressed(appliance) == 1);
                assertThat(primary.transactions()).extracting(tx -> new String(tx.data(), StandardCharsets.UTF_8)
                        .substring(0, 90)).containsExactlyInAnyOrder(
                                header(config, "pass", "designates"), header(config, "fail", "does not designate"));
                assertThat(senders.transactions()).singleElement().satisfies(dsn -> {
                    assertThat(dsn.mailFrom()).startsWith("FROM:<>");
                    assertThat(dsn.rcptTo()).singleElement().asString().startsWith("TO:<a@pass.spf.test>");
                });
            }
        }
    }

    private static String header(BackstopConfig config, String domain, String verb) {
        return ("Authentication-Results: " + config.hostname() + ";\r\n\tspf=" + domain + " (domain of " + domain
                + ".spf.test " + verb + " 127.0.0.2 as permitted sender)").substring(0, 90);
    }

    private static double suppressed(Appliance appliance) throws Exception {
        String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + appliance.metricsAddress().getPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        return MetricsEndpointTest.value(metrics, "backstop_bounces_suppressed_total{reason=\"spf_fail\"}");
    }
}
