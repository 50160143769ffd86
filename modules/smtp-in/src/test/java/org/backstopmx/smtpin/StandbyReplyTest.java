package org.backstopmx.smtpin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.backstopmx.core.EtrnService;
import org.backstopmx.core.Metrics;
import org.backstopmx.core.PrimaryCapabilities;
import org.backstopmx.core.Standby;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.SmtpConfig;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Standby mode at RCPT, over a real socket: a domain left to its primary gets {@code 450 4.7.1} naming the primary,
 * and is taken again the moment the forwarder says so; refusals for good keep their own replies.
 */
class StandbyReplyTest {
    private final Map<String, String> standingBy = new ConcurrentHashMap<>();
    private ServerFixture fx;

    @BeforeEach
    void start() throws Exception {
        Standby standby = domain -> Optional.ofNullable(standingBy.get(domain));
        fx = new ServerFixture(SmtpConfig.defaults(), Map.of(
                "example.test", DomainConfig.acceptAll("example.test"),
                "listed.test", new DomainConfig("listed.test", null, Set.of("alice"), null),
                "other.test", DomainConfig.acceptAll("other.test")),
                (domain, client) -> EtrnService.Result.UNAVAILABLE, PrimaryCapabilities.UNKNOWN, standby);
    }

    @AfterEach
    void stop() {
        fx.close();
    }

    @Test
    void whileThePrimaryIsUpRcptGets450NamingItAndOnceItIsDownTheSameRcptIsTaken() throws Exception {
        standingBy.put("example.test", "mail.example.test[192.0.2.10]");
        try (SmtpTranscript t = fx.client()) {
            assertThat(t.command("MAIL FROM:<a@sender.test>")).startsWith("250 2.1.0");
            assertThat(t.command("RCPT TO:<bob@Example.Test>")).isEqualTo("450 4.7.1 Mail for example.test is taken"
                    + " by its primary mail.example.test[192.0.2.10] now; this backup MX takes it only while the"
                    + " primary is down, try again later");
            assertThat(t.command("RCPT TO:<carol@other.test>")).as("another domain is not concerned")
                    .startsWith("250 2.1.5");

            standingBy.remove("example.test");
            assertThat(t.command("RCPT TO:<bob@example.test>")).startsWith("250 2.1.5");
        }
        assertThat(fx.registry.get(Metrics.SMTP_REJECTIONS).tag("reason", "standby").counter().count())
                .isEqualTo(1);
    }

    @Test
    void relayControlAndTheRecipientListStillRefuseForGood() throws Exception {
        standingBy.put("listed.test", "mx.listed.test");
        try (SmtpTranscript t = fx.client()) {
            assertThat(t.command("MAIL FROM:<a@sender.test>")).startsWith("250 2.1.0");
            assertThat(t.command("RCPT TO:<mallory@listed.test>")).startsWith("550 5.1.1");
            assertThat(t.command("RCPT TO:<alice@listed.test>")).startsWith("450 4.7.1 Mail for listed.test");
            assertThat(t.command("RCPT TO:<x@elsewhere.test>")).startsWith("550 5.7.1");
        }
    }
}
