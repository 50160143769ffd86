package org.backstopmx.smtpin;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.backstopmx.core.EtrnService;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.SmtpConfig;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** ETRN (RFC 1985) over a real socket, with a recording service standing in for the delivering side. */
class EtrnTest {
    /** Records every request and answers {@link #result}, or throws when {@link #failure} is set. */
    static final class RecordingEtrn implements EtrnService {
        record Call(String domain, InetAddress client) {
        }

        final List<Call> calls = new CopyOnWriteArrayList<>();
        volatile Result result = Result.STARTED;
        volatile RuntimeException failure;

        @Override
        public Result etrn(String domain, InetAddress client) {
            calls.add(new Call(domain, client));
            if (failure != null) {
                throw failure;
            }
            return result;
        }

        List<String> domains() {
            return calls.stream().map(Call::domain).toList();
        }
    }

    private final RecordingEtrn etrn = new RecordingEtrn();
    private ServerFixture fx;

    @BeforeEach
    void start() throws Exception {
        fx = new ServerFixture(SmtpConfig.defaults(), Map.of("example.test", DomainConfig.acceptAll("example.test")), etrn);
    }

    @AfterEach
    void stop() {
        fx.close();
    }

    @Test
    void ehloAdvertisesEtrn() throws Exception {
        try (SmtpTranscript t = new SmtpTranscript(fx.address())) {
            t.reply();
            assertThat(t.command("EHLO client.test").split("\n")).contains("250 ETRN");
        }
    }

    @Test
    void eachResultHasItsReply() throws Exception {
        try (SmtpTranscript t = fx.client()) {
            etrn.result = EtrnService.Result.STARTED;
            assertThat(t.command("ETRN example.test")).isEqualTo("250 2.0.0 Queuing for node example.test started");
            etrn.result = EtrnService.Result.NOTHING_WAITING;
            assertThat(t.command("ETRN example.test")).isEqualTo("251 2.0.0 No messages waiting for node example.test");
            etrn.result = EtrnService.Result.UNKNOWN_DOMAIN;
            assertThat(t.command("ETRN other.test")).isEqualTo("459 4.7.1 other.test: not a domain we hold mail for");
            etrn.result = EtrnService.Result.NOT_ALLOWED;
            assertThat(t.command("ETRN example.test")).isEqualTo("459 4.7.1 Client host not allowed to flush example.test");
            etrn.result = EtrnService.Result.UNAVAILABLE;
            assertThat(t.command("ETRN example.test")).isEqualTo("458 4.3.0 Unable to queue messages for node example.test");
            assertThat(t.command("NOOP")).startsWith("250 2.0.0");
        }
        assertThat(etrn.domains()).containsExactly("example.test", "example.test", "other.test", "example.test",
                "example.test");
    }

    @Test
    void theServiceGetsTheDomainInLowerCaseAndTheClientAddress() throws Exception {
        try (SmtpTranscript t = fx.client()) {
            assertThat(t.command("ETRN Mail.Example.TEST")).startsWith("250 2.0.0");
            assertThat(t.command("etrn @Example.Test.")).startsWith("250 2.0.0 Queuing for node example.test started");
            assertThat(t.command("ETRN   sub-1.example.test  ")).startsWith("250 2.0.0");
        }
        assertThat(etrn.domains()).containsExactly("mail.example.test", "example.test", "sub-1.example.test");
        assertThat(etrn.calls).extracting(c -> c.client().getHostAddress()).containsOnly("127.0.0.1");
    }

    @Test
    void syntaxErrorsAreRefusedWithoutAskingTheService() throws Exception {
        String label63 = "a".repeat(63);
        String longest = String.join(".", label63, label63, label63, "a".repeat(61)); // 253 characters
        try (SmtpTranscript t = fx.client()) {
            for (String bad : List.of("ETRN", "ETRN ", "ETRN @", "ETRN #", "ETRN .", "ETRN example..test",
                    "ETRN -example.test", "ETRN example-.test", "ETRN exa_mple.test", "ETRN user@example.test",
                    "ETRN example.test extra", "ETRN [192.0.2.1]", "ETRN 192.0.2.1", "ETRN @@example.test",
                    "ETRN " + "a".repeat(64) + ".test", "ETRN " + longest + "a", "ETRN caf\u00e9.test")) {
                assertThat(t.command(bad)).as(bad).isEqualTo("501 5.5.4 Syntax: ETRN domain");
            }
            assertThat(t.command("ETRN " + longest + ".")).startsWith("250 2.0.0");
            assertThat(t.command("ETRN localhost")).startsWith("250 2.0.0");
        }
        assertThat(etrn.domains()).containsExactly(longest, "localhost");
    }

    @Test
    void aNamedQueueIsNotSupported() throws Exception {
        try (SmtpTranscript t = fx.client()) {
            assertThat(t.command("ETRN #queue")).isEqualTo("458 4.3.3 ETRN #queue is not supported, use ETRN domain");
        }
        assertThat(etrn.calls).isEmpty();
    }

    @Test
    void needsHeloOrEhloFirst() throws Exception {
        try (SmtpTranscript t = new SmtpTranscript(fx.address())) {
            t.reply();
            assertThat(t.command("ETRN example.test")).isEqualTo("503 5.5.1 Send HELO or EHLO first");
            assertThat(t.command("HELO client.test")).startsWith("250 ");
            assertThat(t.command("ETRN example.test")).startsWith("250 2.0.0");
        }
        assertThat(etrn.calls).hasSize(1);
    }

    @Test
    void isRefusedInsideAMailTransaction() throws Exception {
        try (SmtpTranscript t = fx.client()) {
            assertThat(t.command("MAIL FROM:<a@sender.test>")).startsWith("250 2.1.0");
            assertThat(t.command("ETRN example.test")).isEqualTo("503 5.5.1 MAIL transaction in progress");
            assertThat(t.command("RCPT TO:<b@example.test>")).startsWith("250 2.1.5");
            assertThat(t.command("ETRN example.test")).isEqualTo("503 5.5.1 MAIL transaction in progress");
            assertThat(t.command("DATA")).startsWith("354");
            // inside DATA the line is message content, not a command
            t.sendRaw("Subject: x\r\n\r\nETRN example.test\r\n.\r\n");
            assertThat(t.reply()).startsWith("250 2.0.0 Ok: queued as ");
            assertThat(t.command("ETRN example.test")).isEqualTo("250 2.0.0 Queuing for node example.test started");
            assertThat(t.command("MAIL FROM:<a@sender.test>")).startsWith("250 2.1.0");
            assertThat(t.command("ETRN example.test")).startsWith("503 5.5.1");
            assertThat(t.command("RSET")).startsWith("250");
            assertThat(t.command("ETRN example.test")).startsWith("250 2.0.0");
        }
        assertThat(etrn.calls).hasSize(2);
        assertThat(fx.queue.stored()).hasSize(1);
    }

    @Test
    void aFailingServiceAnswers458AndTheSessionGoesOn() throws Exception {
        etrn.failure = new IllegalStateException("database is closed");
        try (SmtpTranscript t = fx.client()) {
            String reply = t.command("ETRN example.test");
            assertThat(reply).isEqualTo("458 4.3.0 Unable to queue messages for node example.test");
            assertThat(reply).doesNotContain("database").doesNotContain("Exception");
            etrn.failure = null;
            etrn.result = EtrnService.Result.NOTHING_WAITING;
            assertThat(t.command("ETRN example.test")).startsWith("251 2.0.0");
            assertThat(t.command("MAIL FROM:<a@sender.test>")).startsWith("250 2.1.0");
            assertThat(t.command("RCPT TO:<b@example.test>")).startsWith("250 2.1.5");
            assertThat(t.command("DATA")).startsWith("354");
            t.sendRaw("Subject: x\r\n\r\nhi\r\n.\r\n");
            assertThat(t.reply()).startsWith("250 2.0.0 Ok: queued as ");
            assertThat(t.command("QUIT")).startsWith("221");
        }
        assertThat(etrn.calls).hasSize(2);
    }

    @Test
    void domainSyntax() {
        assertThat(EtrnCommand.domain("Example.ORG.")).isEqualTo("example.org");
        assertThat(EtrnCommand.domain("xn--caf-dma.example")).isEqualTo("xn--caf-dma.example");
        assertThat(EtrnCommand.domain("3com.com")).isEqualTo("3com.com");
        assertThat(EtrnCommand.domain("example.org..")).isNull();
        assertThat(EtrnCommand.domain("")).isNull();
        assertThat(EtrnCommand.domain("10.0.0.1")).isNull();
    }
}
