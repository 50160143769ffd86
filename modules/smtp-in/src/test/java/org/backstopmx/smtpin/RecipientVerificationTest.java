package org.backstopmx.smtpin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.backstopmx.core.EtrnService;
import org.backstopmx.core.PrimaryCapabilities;
import org.backstopmx.core.RecipientVerifier;
import org.backstopmx.core.RecipientVerifier.Verdict;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.RecipientCheck;
import org.backstopmx.core.config.SmtpConfig;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * RCPT at a domain with {@code recipient-check: callout}, as transcripts: what the verifier answers becomes the reply,
 * a listed local part never reaches it, and other domains never do. The verifier here answers by local part (the
 * forwarder's callouts to a real primary are the app's end-to-end test).
 */
class RecipientVerificationTest {
    private final List<String> asked = new CopyOnWriteArrayList<>();
    private ServerFixture fx;

    @AfterEach
    void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    private Verdict byLocalPart(String address) {
        asked.add(address);
        return switch (address.substring(0, address.indexOf('@'))) {
            case "nobody" -> Verdict.invalid("<nobody@callout.test>: Recipient address rejected: User unknown");
            case "twoline" -> Verdict.invalid("first line\r\nsecond line");
            case "silent" -> Verdict.invalid(null);
            case "later" -> Verdict.UNVERIFIED;
            default -> Verdict.VALID;
        };
    }

    private SmtpTranscript start() throws Exception {
        fx = new ServerFixture(SmtpConfig.defaults(), Map.of(
                "callout.test", new DomainConfig("callout.test", null, Set.of("listed"), null, null, List.of(),
                        RecipientCheck.CALLOUT),
                "open.test", DomainConfig.acceptAll("open.test")),
                (domain, client) -> EtrnService.Result.UNAVAILABLE, PrimaryCapabilities.UNKNOWN,
                org.backstopmx.core.Standby.NEVER, this::byLocalPart);
        SmtpTranscript t = fx.client();
        assertThat(t.command("MAIL FROM:<someone@sender.test>")).startsWith("250");
        return t;
    }

    @Test
    void theVerdictBecomesTheReply() throws Exception {
        try (SmtpTranscript t = start()) {
            assertThat(t.command("RCPT TO:<alice@callout.test>")).startsWith("250 2.1.5");
            assertThat(t.command("RCPT TO:<nobody@callout.test>"))
                    .isEqualTo("550 5.1.1 <nobody@callout.test>: Recipient address rejected: User unknown");
            assertThat(t.command("RCPT TO:<twoline@callout.test>")).isEqualTo("550 5.1.1 first line second line");
            assertThat(t.command("RCPT TO:<silent@callout.test>"))
                    .isEqualTo("550 5.1.1 Recipient address rejected: user unknown");
            assertThat(t.command("RCPT TO:<later@callout.test>")).isEqualTo("450 4.1.1 Recipient address not"
                    + " verified: the mail server for callout.test cannot be asked now, try again later");
        }
        assertThat(fx.registry.get("backstop.smtp.rejections").tag("reason", "unknown_recipient").counter().count())
                .isEqualTo(4);
    }

    @Test
    void listedLocalPartsOtherDomainsAndDuplicatesAreNotAsked() throws Exception {
        try (SmtpTranscript t = start()) {
            assertThat(t.command("RCPT TO:<Listed@callout.test>")).startsWith("250");
            assertThat(t.command("RCPT TO:<anyone@open.test>")).startsWith("250");
            assertThat(t.command("RCPT TO:<bob@callout.test>")).startsWith("250");
            assertThat(t.command("RCPT TO:<bob@callout.test>")).startsWith("250");
            assertThat(t.command("RCPT TO:<bob@elsewhere.test>")).startsWith("550 5.7.1");
        }
        assertThat(asked).containsExactly("bob@callout.test");
    }
}
