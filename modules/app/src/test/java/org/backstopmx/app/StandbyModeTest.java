package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.backstopmx.core.config.AcceptConfig;
import org.backstopmx.core.config.AcceptMode;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Standby mode through the whole appliance, as a sending server sees it: {@code example.test} with
 * {@code accept: when-primary-down} gets {@code 450 4.7.1} while its primary answers the probes, {@code 250} once
 * two probes in a row found it stopped, and {@code 450} again once it is back (its queued mail then delivered).
 * Real sockets on 127.0.0.1; the probe runs every 200 ms and the waits are for events. The probe counts and the
 * flapping rule are pinned with a moved clock in the forwarder's {@code StandbyTest}.
 */
class StandbyModeTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();
    private Appliance appliance;

    @Test
    void refusedWhileThePrimaryAnswersTakenOnceItIsDownRefusedAgainWhenItIsBack() throws Exception {
        try (FakePrimaryMx primary = FakePrimaryMx.start()) {
            BackstopConfig base = InProcessConfig.serving(dir, primary.port(), Duration.ofMillis(200));
            DomainConfig standby = base.domains().get("example.test").withAccept(AcceptMode.WHEN_PRIMARY_DOWN);
            try (Appliance a = Appliance.start(base.withDomains(Map.of("example.test", standby))
                    .withAccept(new AcceptConfig(2)), Clock.systemUTC())) {
                appliance = a;
                upDownUp(primary);
            }
        }
    }

    @Test
    void aReloadSwitchesStandbyModeOnAndOffForTheNextRcpt() throws Exception {
        try (FakePrimaryMx primary = FakePrimaryMx.start()) {
            BackstopConfig always = InProcessConfig.serving(dir, primary.port(), Duration.ofHours(1));
            DomainConfig domain = always.domains().get("example.test");
            BackstopConfig standby = always.withDomains(Map.of("example.test",
                    domain.withAccept(AcceptMode.WHEN_PRIMARY_DOWN)));
            try (Appliance a = Appliance.start(always, Clock.systemUTC())) {
                appliance = a;
                assertThat(rcpt()).startsWith("250 2.1.5");
                assertThat(accepting()).isEqualTo("1.0");

                a.reload(standby);
                assertThat(rcpt()).as("presumed up until the probes say otherwise").startsWith("450 4.7.1");
                assertThat(accepting()).isEqualTo("0.0");

                a.reload(always);
                assertThat(rcpt()).startsWith("250 2.1.5");
                assertThat(accepting()).isEqualTo("1.0");
            }
        }
    }

    private void upDownUp(FakePrimaryMx primary) throws Exception {
        await().atMost(WAIT).until(() -> rcpt().equals("450 4.7.1 Mail for example.test is taken by its primary"
                + " 127.0.0.1[127.0.0.1] now; this backup MX takes it only while the primary is down, try again later"));
        assertThat(accepting()).isEqualTo("0.0");

        primary.stop();
        await().atMost(WAIT).until(() -> rcpt().startsWith("250 2.1.5"));
        assertThat(accepting()).isEqualTo("1.0");
        try (SmtpTranscript t = client()) {
            assertThat(t.command("MAIL FROM:<alice@sender.test>")).startsWith("250");
            assertThat(t.command("RCPT TO:<bob@example.test>")).startsWith("250 2.1.5");
            assertThat(t.command("DATA")).startsWith("354");
            assertThat(t.command("Subject: while the primary is down\r\n\r\nhello\r\n.")).startsWith("250 2.0.0");
        }

        primary.restart();
        await().atMost(WAIT).until(() -> rcpt().startsWith("450 4.7.1"));
        assertThat(accepting()).isEqualTo("0.0");
        await().atMost(WAIT).until(() -> primary.transactions().size() == 1 && appliance.queue().list(10).isEmpty());
    }

    /** A fresh session's answer to {@code RCPT TO:<bob@example.test>}. */
    private String rcpt() throws Exception {
        try (SmtpTranscript t = client()) {
            t.command("MAIL FROM:<alice@sender.test>");
            return t.command("RCPT TO:<bob@example.test>");
        }
    }

    private SmtpTranscript client() throws Exception {
        SmtpTranscript t = new SmtpTranscript(appliance.smtpAddress());
        t.reply();
        t.command("EHLO client.test");
        return t;
    }

    /** The value of {@code backstop_domain_accepting{domain="example.test"}} as scraped. */
    private String accepting() throws Exception {
        URI metrics = URI.create("http://127.0.0.1:" + appliance.metricsAddress().getPort() + "/metrics");
        String body = http.send(HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString()).body();
        return body.lines().filter(l -> l.startsWith("backstop_domain_accepting{") && l.contains("\"example.test\""))
                .map(l -> l.substring(l.lastIndexOf(' ') + 1)).findFirst().orElse("absent");
    }
}
