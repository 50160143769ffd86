package org.backstopmx.smtpin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.backstopmx.core.EtrnService;
import org.backstopmx.core.MailExtension;
import org.backstopmx.core.PrimaryCapabilities;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.SmtpConfig;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Capability parity for sizes: the SIZE a primary advertised is held to at EHLO, MAIL, RCPT and the end of data. */
class PrimarySizeLimitTest {
    /** example.test's primary advertised SIZE 1000000; nothing is known of other.test's. */
    private static final PrimaryCapabilities PRIMARIES = new PrimaryCapabilities() {
        @Override
        public boolean knownToLack(String domain, MailExtension extension) {
            return false;
        }

        @Override
        public long sizeLimit(String domain) {
            return domain.equals("example.test") ? 1_000_000 : 0;
        }
    };
    private ServerFixture fx;

    @AfterEach
    void stop() {
        fx.close();
    }

    private void start(String... domains) throws Exception {
        Map<String, DomainConfig> served = new java.util.HashMap<>();
        for (String d : domains) {
            served.put(d, DomainConfig.acceptAll(d));
        }
        fx = new ServerFixture(SmtpConfig.defaults(), served, (domain, client) -> EtrnService.Result.UNAVAILABLE,
                PRIMARIES);
    }

    @Test
    void withOneServedDomainItsPrimarysLimitIsAdvertisedAndHeldToAtMailAndAtTheEndOfData() throws Exception {
        start("example.test");
        try (SmtpTranscript t = new SmtpTranscript(fx.address())) {
            t.reply();
            assertThat(t.command("EHLO client.test")).contains("250-SIZE 1000000\n");
            assertThat(t.command("MAIL FROM:<a@s.test> SIZE=2000000")).startsWith("552 5.3.4");
            assertThat(t.command("MAIL FROM:<a@s.test> SIZE=900000")).startsWith("250 2.1.0");
            assertThat(t.command("RCPT TO:<b@example.test>")).startsWith("250 2.1.5");
            assertThat(t.command("RSET")).startsWith("250");
            // without SIZE=, the stored size (our Received: header included) is checked at the end of data
            assertThat(t.command("MAIL FROM:<a@s.test>")).startsWith("250 2.1.0");
            assertThat(t.command("RCPT TO:<b@example.test>")).startsWith("250 2.1.5");
            assertThat(t.command("DATA")).startsWith("354");
            t.sendRaw("Subject: big\r\n\r\n" + ("x".repeat(998) + "\r\n").repeat(2000) + ".\r\n");
            assertThat(t.reply()).isEqualTo("552 5.3.4 Message size exceeds the fixed maximum message size of the"
                    + " mail server for example.test");
            assertThat(t.command("MAIL FROM:<a@s.test>")).startsWith("250 2.1.0");
            assertThat(t.command("RCPT TO:<b@example.test>")).startsWith("250 2.1.5");
            assertThat(t.command("DATA")).startsWith("354");
            t.sendRaw("Subject: small\r\n\r\n" + ("x".repeat(998) + "\r\n").repeat(500) + ".\r\n");
            assertThat(t.reply()).startsWith("250 2.0.0");
        }
        assertThat(fx.queue.stored()).hasSize(1);
    }

    @Test
    void withSeveralDomainsTheLargestLimitIsAdvertisedAndEachRecipientIsHeldToItsOwn() throws Exception {
        start("example.test", "other.test");
        try (SmtpTranscript t = fx.client()) {
            assertThat(t.command("EHLO client.test")).contains("250-SIZE 52428800\n");
            assertThat(t.command("MAIL FROM:<a@s.test> SIZE=2000000")).startsWith("250 2.1.0");
            assertThat(t.command("RCPT TO:<b@example.test>")).isEqualTo("552 5.3.4 Message size exceeds the fixed"
                    + " maximum message size of the mail server for example.test");
            assertThat(t.command("RCPT TO:<c@other.test>")).startsWith("250 2.1.5");
        }
    }
}
