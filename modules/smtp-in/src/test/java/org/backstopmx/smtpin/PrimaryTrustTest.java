package org.backstopmx.smtpin;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Map;
import org.backstopmx.core.EtrnService;
import org.backstopmx.core.PrimaryAddresses;
import org.backstopmx.core.PrimaryCapabilities;
import org.backstopmx.core.RecipientVerifier;
import org.backstopmx.core.Standby;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.GreylistMode;
import org.backstopmx.core.config.RateConfig;
import org.backstopmx.core.config.ScreenConfig;
import org.backstopmx.core.config.SmtpConfig;
import org.backstopmx.testkit.MutableClock;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.Test;

/**
 * A served domain's primary is never screened, whether or not {@code screen.trusted} names it: one connection a
 * minute and greylisting for everyone else, and the primary (127.0.0.7 here) connects and sends as it likes.
 */
class PrimaryTrustTest {
    private static final InetAddress PRIMARY = address("127.0.0.7");

    private final MutableClock clock = MutableClock.startingAt("2026-12-02T10:00:00Z");

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private ServerFixture server() throws InterruptedException {
        ScreenConfig screen = ScreenConfig.defaults().withRate(new RateConfig(1, 0, 0, 0))
                .withGreylist(GreylistMode.ON, Duration.ofMinutes(5), Duration.ofHours(4), Duration.ofDays(35));
        return new ServerFixture(SmtpConfig.defaults(), Map.of("example.test", DomainConfig.acceptAll("example.test")),
                (domain, client) -> EtrnService.Result.UNAVAILABLE, PrimaryCapabilities.UNKNOWN, Standby.NEVER,
                RecipientVerifier.NONE, screen, DnsConfig.defaults(), clock, new MemoryGreylist(),
                PRIMARY::equals);
    }

    /** A session from {@code local} through RCPT; the RCPT's reply, or the first line when refused before. */
    private static String rcpt(ServerFixture f, String local) throws Exception {
        try (SmtpTranscript t = new SmtpTranscript(f.address(), address(local), 10_000)) {
            String greeting = t.reply();
            if (!greeting.startsWith("220 ")) {
                return greeting;
            }
            assertThat(t.command("EHLO primary.example.test")).startsWith("250");
            assertThat(t.command("MAIL FROM:<bounces@example.test>")).startsWith("250");
            String reply = t.command("RCPT TO:<user@example.test>");
            t.command("QUIT");
            return reply;
        }
    }

    @Test
    void thePrimaryIsNeitherRateLimitedNorGreylisted() throws Exception {
        try (ServerFixture f = server()) {
            assertThat(rcpt(f, "127.0.0.8")).as("a stranger's first try").startsWith("450 4.7.1");
            assertThat(rcpt(f, "127.0.0.8")).as("a stranger's second connection").startsWith("421 4.7.0");
            for (int i = 0; i < 3; i++) {
                assertThat(rcpt(f, "127.0.0.7")).as("the primary, connection %d", i).startsWith("250");
            }
        }
    }

    @Test
    void withoutPrimariesEveryoneIsScreened() throws Exception {
        ScreenConfig screen = ScreenConfig.defaults().withRate(new RateConfig(1, 0, 0, 0));
        try (ServerFixture f = new ServerFixture(SmtpConfig.defaults(),
                Map.of("example.test", DomainConfig.acceptAll("example.test")),
                (domain, client) -> EtrnService.Result.UNAVAILABLE, PrimaryCapabilities.UNKNOWN, Standby.NEVER,
                RecipientVerifier.NONE, screen, DnsConfig.defaults(), clock, null, PrimaryAddresses.NONE)) {
            assertThat(rcpt(f, "127.0.0.7")).startsWith("250");
            assertThat(rcpt(f, "127.0.0.7")).startsWith("421 4.7.0");
        }
    }
}
