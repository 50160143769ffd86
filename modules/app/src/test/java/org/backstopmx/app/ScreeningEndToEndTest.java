package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.core.config.DnsListMatch;
import org.backstopmx.core.config.GreylistMode;
import org.backstopmx.core.config.ScreenConfig;
import org.backstopmx.core.config.ScreenConfig.DnsList;
import org.backstopmx.testkit.Dnsmasq;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.MutableClock;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The appliance screens clients with the DNS lists of {@code screen.*} through {@code dns.server}: a block-listed
 * client (127.0.0.2 in a dnsmasq-served zone) is refused and counted in {@code /metrics}, a clean one sends mail.
 * Greylisting keeps its triplets in the queue's database, across a restart.
 */
class ScreeningEndToEndTest {
    @TempDir
    Path dir;

    @Test
    void aListedClientIsRefusedAndACleanOneIsNot() throws Exception {
        try (Dnsmasq dns = Dnsmasq.start("--host-record=2.0.0.127.bl.test,127.0.0.2");
                FakePrimaryMx primary = FakePrimaryMx.start()) {
            ScreenConfig screen = ScreenConfig.defaults().withLists(
                    List.of(new DnsList("bl.test", 2, DnsListMatch.parse("127.0.0.[2..11]"))), List.of(), 2);
            var config = InProcessConfig.serving(dir, primary.port(), Duration.ofSeconds(1))
                    .withDns(new DnsConfig(dns.address(), Duration.ofSeconds(2)))
                    .withScreen(screen);
            try (Appliance appliance = Appliance.start(config, Clock.systemUTC())) {
                try (SmtpTranscript listed = new SmtpTranscript(appliance.smtpAddress(),
                        InetAddress.getByName("127.0.0.2"), 10_000)) {
                    assertThat(listed.reply()).startsWith("220 ");
                    assertThat(listed.command("EHLO spam.test"))
                            .isEqualTo("554 5.7.1 Service unavailable; client [127.0.0.2] blocked using bl.test");
                    assertThat(listed.command("QUIT")).startsWith("221");
                }
                try (SmtpTranscript clean = new SmtpTranscript(appliance.smtpAddress(),
                        InetAddress.getByName("127.0.0.5"), 10_000)) {
                    assertThat(clean.reply()).startsWith("220 ");
                    assertThat(clean.command("EHLO mta.test")).startsWith("250");
                    assertThat(clean.command("MAIL FROM:<a@mta.test>")).startsWith("250");
                    assertThat(clean.command("RCPT TO:<bob@example.test>")).startsWith("250");
                }
                String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                        "http://127.0.0.1:" + appliance.metricsAddress().getPort() + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                assertThat(MetricsEndpointTest.value(metrics,
                        "backstop_screen_decisions_total{check=\"score\",result=\"refused\"}")).isEqualTo(1);
                assertThat(MetricsEndpointTest.value(metrics,
                        "backstop_screen_decisions_total{check=\"dnsbl\",result=\"clean\"}")).isEqualTo(1);
            }
        }
    }

    @Test
    void aGreylistedTripletPassesAfterTheDelayEvenAcrossARestart() throws Exception {
        MutableClock clock = MutableClock.startingAt("2026-03-01T10:00:00Z");
        try (FakePrimaryMx primary = FakePrimaryMx.start()) {
            var base = InProcessConfig.serving(dir, primary.port(), Duration.ofSeconds(1));
            var config = base.withScreen(base.screen().withGreylist(GreylistMode.ON, Duration.ofMinutes(5),
                    Duration.ofHours(4), Duration.ofDays(35)));
            try (Appliance appliance = Appliance.start(config, clock)) {
                assertThat(rcpt(appliance)).startsWith("450 4.7.1 Greylisted");
                String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                        "http://127.0.0.1:" + appliance.metricsAddress().getPort() + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                assertThat(MetricsEndpointTest.value(metrics,
                        "backstop_screen_decisions_total{check=\"greylist\",result=\"deferred\"}")).isEqualTo(1);
            }
            clock.advance(Duration.ofMinutes(5));
            try (Appliance appliance = Appliance.start(config, clock)) {
                assertThat(rcpt(appliance)).startsWith("250");
            }
        }
    }

    private static String rcpt(Appliance appliance) throws Exception {
        try (SmtpTranscript t = new SmtpTranscript(appliance.smtpAddress(), InetAddress.getByName("127.0.0.7"),
                10_000)) {
            assertThat(t.reply()).startsWith("220 ");
            assertThat(t.command("EHLO mta.test")).startsWith("250");
            assertThat(t.command("MAIL FROM:<a@mta.test>")).startsWith("250");
            String reply = t.command("RCPT TO:<bob@example.test>");
            assertThat(t.command("QUIT")).startsWith("221");
            return reply;
        }
    }
}
