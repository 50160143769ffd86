package org.backstopmx.smtpin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.backstopmx.core.DsnRet;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.QueueException;
import org.backstopmx.testkit.RecordingMailQueue;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Transcript tests: exact bytes in, exact replies out, over a real socket. */
class SmtpSessionTest {
    private ServerFixture fx;

    @BeforeEach
    void start() throws Exception {
        fx = ServerFixture.standard();
    }

    @AfterEach
    void stop() {
        fx.close();
    }

    @Test
    void greetingAndEhloAdvertiseTheExtensions() throws Exception {
        try (SmtpTranscript t = new SmtpTranscript(fx.address())) {
            assertThat(t.reply()).isEqualTo("220 mx2.backstop.test ESMTP Backstop MX");
            String ehlo = t.command("EHLO client.test");
            assertThat(ehlo.split("\n")).containsExactly(
                    "250-mx2.backstop.test Hello client.test [127.0.0.1]",
                    "250-PIPELINING", "250-8BITMIME", "250-ENHANCEDSTATUSCODES",
                    "250-SIZE 52428800", "250-DSN", "250-SMTPUTF8", "250-CHUNKING", "250 ETRN");
            assertThat(t.command("HELO client.test")).startsWith("250 mx2.backstop.test");
            assertThat(t.command("NOOP")).startsWith("250 2.0.0");
            assertThat(t.command("VRFY alice@example.test")).startsWith("252 2.5.2");
            assertThat(t.command("EXPN staff")).startsWith("502 5.5.1");
            assertThat(t.command("FOO")).startsWith("500 5.5.");
            assertThat(t.command("EHLO")).startsWith("501 5.5.4");
            assertThat(t.command("QUIT")).startsWith("221 2.0.0");
            assertThat(t.closedByServer()).isTrue();
        }
    }

    @Test
    void aParameterGivenTwiceIsRefusedAndTheSessionGoesOn() throws Exception {
        try (ServerFixture fx = ServerFixture.standard(); SmtpTranscript t = fx.client()) {
            assertThat(t.command("MAIL FROM:<a@sender.test> SIZE=10 SIZE=20"))
                    .isEqualTo("501 5.5.4 Parameter given twice: SIZE");
            assertThat(t.command("MAIL FROM:<a@sender.test> SIZE=10")).startsWith("250");
            assertThat(t.command("RCPT TO:<b@example.test> ORCPT=rfc822;b@example.test orcpt=rfc822;c@example.test"))
                    .isEqualTo("501 5.5.4 Parameter given twice: ORCPT");
            assertThat(t.command("RCPT TO:<b@example.test> ORCPT=rfc822;b@example.test")).startsWith("250");
        }
    }

    @Test
    void aControlCharacterInACommandIsRefusedAndNeverQuotedBack() throws Exception {
        try (ServerFixture fx = ServerFixture.standard(); SmtpTranscript t = fx.client()) {
            assertThat(t.command("EHLO client.test\rEHLO")).isEqualTo("500 5.5.2 Syntax error: control character in command");
            assertThat(t.command("FO\rO")).startsWith("500 5.5.2");
            assertThat(t.command("NOOP\0")).startsWith("500 5.5.2");
            assertThat(t.command("MAIL FROM:<a@sender.test>\tSIZE=10")).as("TAB is no control character here")
                    .doesNotStartWith("500 5.5.2 Syntax error: control");
            assertThat(t.command("NOOP")).startsWith("250 2.0.0");
        }
    }

    @Test
    void mailBeforeHeloIsRefused() throws Exception {
        try (SmtpTranscript t = new SmtpTranscript(fx.address())) {
            t.reply();
            assertThat(t.command("MAIL FROM:<a@sender.test>")).startsWith("503 5.");
        }
    }

    @Test
    void storesTheMessageByteExactAfterOurReceivedHeader() throws Exception {
        byte[] eight = "Subject: caf\u00e9\r\n".getBytes(StandardCharsets.ISO_8859_1);
        String longLine = "x".repeat(996) + "\r\n"; // 998 octets + CRLF
        try (SmtpTranscript t = fx.client()) {
            assertThat(t.command("MAIL FROM:<alice@sender.test> BODY=8BITMIME SIZE=5000")).startsWith("250 2.1.0");
            assertThat(t.command("RCPT TO:<Bob@Example.TEST>")).startsWith("250 2.1.5");
            assertThat(t.command("DATA")).isEqualTo("354 End data with <CR><LF>.<CR><LF>");
            t.sendBytes(eight);
            t.sendRaw("\r\n..leading dot\r\n" + longLine + "...\r\n.\r\n");
            String reply = t.reply();
            assertThat(reply).matches("250 2\\.0\\.0 Ok: queued as [0-9A-F]{16}");
        }
        RecordingMailQueue.Stored s = fx.queue.stored().get(0);
        String body = new String(s.body(), StandardCharsets.ISO_8859_1);
        assertThat(body).startsWith("Received: from client.test ([127.0.0.1])\r\n\tby mx2.backstop.test (Backstop MX) with ESMTP id "
                + s.envelope().id() + "\r\n\tfor <Bob@example.test>; ");
        String content = body.substring(body.indexOf("\r\n", body.indexOf("\tfor <")) + 2);
        assertThat(content).isEqualTo("Subject: caf\u00e9\r\n\r\n.leading dot\r\n" + longLine + "..\r\n");
        assertThat(s.envelope().sender()).isEqualTo("alice@sender.test");
        assertThat(s.envelope().recipients()).containsExactly(EnvelopeRecipient.of("Bob@example.test"));
        assertThat(s.envelope().size()).isEqualTo(s.body().length);
        assertThat(s.envelope().clientAddress()).isEqualTo("127.0.0.1");
        assertThat(s.envelope().clientHelo()).isEqualTo("client.test");
    }

    @Test
    void acceptsTheNullSenderAndKeepsDsnParameters() throws Exception {
        try (SmtpTranscript t = fx.client()) {
            assertThat(t.command("MAIL FROM:<> RET=HDRS ENVID=QQ314159")).startsWith("250 2.1.0");
            assertThat(t.command("RCPT TO:<a@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a+40example.test")).startsWith("250 2.1.5");
            assertThat(t.command("RCPT TO:<b@example.test> NOTIFY=NEVER")).startsWith("250 2.1.5");
            assertThat(t.command("RCPT TO:<a@EXAMPLE.test>")).startsWith("250 2.1.5");
            assertThat(t.command("DATA")).startsWith("354");
            t.sendRaw("Subject: dsn\r\n\r\nhi\r\n.\r\n");
            assertThat(t.reply()).startsWith("250 2.0.0");
        }
        var env = fx.queue.stored().get(0).envelope();
        assertThat(env.isNullSender()).isTrue();
        assertThat(env.ret()).isEqualTo(DsnRet.HDRS);
        assertThat(env.envId()).isEqualTo("QQ314159");
        assertThat(env.recipients()).containsExactly(
                new EnvelopeRecipient("a@example.test", "SUCCESS,FAILURE", "rfc822;a+40example.test"),
                new EnvelopeRecipient("b@example.test", "NEVER", null));
    }

    @Test
    void badDsnParametersAreRefused() throws Exception {
        try (SmtpTranscript t = fx.client()) {
            assertThat(t.command("MAIL FROM:<a@s.test> RET=SOME")).startsWith("501 5.5.4");
            assertThat(t.command("MAIL FROM:<a@s.test> ENVID=bad=value")).startsWith("501 5.5.4");
            assertThat(t.command("MAIL FROM:<a@s.test>")).startsWith("250");
            assertThat(t.command("RCPT TO:<a@example.test> NOTIFY=NEVER,SUCCESS")).startsWith("501 5.5.4");
            assertThat(t.command("RCPT TO:<a@example.test> ORCPT=nosemicolon")).startsWith("501 5.5.4");
        }
    }

    @Test
    void unsupportedMailAndRcptParametersGet555AndTheSupportedOnesStillWork() throws Exception {
        try (SmtpTranscript t = fx.client()) {
            // RFC 5321 §4.1.1.11; REQUIRETLS is not advertised, so it is unknown too
            assertThat(t.command("MAIL FROM:<a@s.test> FOO=BAR")).isEqualTo("555 5.5.4 Unsupported option: FOO");
            assertThat(t.command("MAIL FROM:<a@s.test> REQUIRETLS")).isEqualTo("555 5.5.4 Unsupported option: REQUIRETLS");
            assertThat(t.command("MAIL FROM:<a@s.test> SIZE=10 requiretls")).isEqualTo("555 5.5.4 Unsupported option: REQUIRETLS");
            // the refused MAIL left no sender behind
            assertThat(t.command("RCPT TO:<a@example.test>")).startsWith("503");
            assertThat(t.command("MAIL FROM:<a@s.test> size=10 body=8bitmime RET=FULL ENVID=e1")).startsWith("250 2.1.0");
            assertThat(t.command("RCPT TO:<a@example.test> FOO=BAR")).isEqualTo("555 5.5.4 Unsupported option: FOO");
            assertThat(t.command("RCPT TO:<a@example.test> NOTIFY=NEVER X-Y")).isEqualTo("555 5.5.4 Unsupported option: X-Y");
            assertThat(t.command("RCPT TO:<a@example.test> notify=failure ORCPT=rfc822;a@example.test"))
                    .startsWith("250 2.1.5");
            assertThat(t.command("DATA")).startsWith("354");
            t.sendRaw("Subject: s\r\n\r\nbody\r\n.\r\n");
            assertThat(t.reply()).startsWith("250 2.0.0");
        }
        assertThat(fx.queue.stored()).singleElement().satisfies(m -> {
            assertThat(m.envelope().envId()).isEqualTo("e1");
            assertThat(m.envelope().recipients()).containsExactly(
                    new EnvelopeRecipient("a@example.test", "FAILURE", "rfc822;a@example.test"));
        });
        // the sequence checks come first, as in Postfix
        try (SmtpTranscript t = fx.client()) {
            assertThat(t.command("RCPT TO:<a@example.test> FOO=BAR")).startsWith("503");
        }
    }

    @Test
    void pipelinedCommandsGetTheirRepliesInOrder() throws Exception {
        try (SmtpTranscript t = fx.client()) {
            t.sendRaw("MAIL FROM:<a@s.test>\r\nRCPT TO:<x@example.test>\r\nRCPT TO:<x@other.test>\r\n"
                    + "RCPT TO:<y@example.test>\r\nDATA\r\n");
            assertThat(t.reply()).startsWith("250 2.1.0");
            assertThat(t.reply()).startsWith("250 2.1.5");
            assertThat(t.reply()).startsWith("550 5.7.1");
            assertThat(t.reply()).startsWith("250 2.1.5");
            assertThat(t.reply()).startsWith("354");
            t.sendRaw("Subject: one\r\n\r\n1\r\n.\r\nMAIL FROM:<b@s.test>\r\nRCPT TO:<z@example.test>\r\nDATA\r\n");
            assertThat(t.reply()).startsWith("250 2.0.0");
            assertThat(t.reply()).startsWith("250 2.1.0");
            assertThat(t.reply()).startsWith("250 2.1.5");
            assertThat(t.reply()).startsWith("354");
            t.sendRaw("Subject: two\r\n\r\n2\r\n.\r\nQUIT\r\n");
            assertThat(t.reply()).startsWith("250 2.0.0");
            assertThat(t.reply()).startsWith("221");
        }
        assertThat(fx.queue.stored()).hasSize(2);
        assertThat(fx.queue.stored().get(0).envelope().recipients()).extracting(EnvelopeRecipient::address)
                .containsExactly("x@example.test", "y@example.test");
    }

    @Test
    void messageBodySentBeforeThe354IsRefused() throws Exception {
        try (SmtpTranscript t = fx.client()) {
            t.sendRaw("MAIL FROM:<a@s.test>\r\nRCPT TO:<x@example.test>\r\nDATA\r\nSubject: early\r\n\r\nbody\r\n.\r\n");
            assertThat(t.reply()).startsWith("250");
            assertThat(t.reply()).startsWith("250");
            assertThat(t.reply()).startsWith("554 5.5.0");
            assertThat(t.closedByServer()).isTrue();
        }
        assertThat(fx.queue.stored()).isEmpty();
        assertThat(fx.queue.openCount()).isZero();
    }

    @Test
    void smugglingWithBareLfBeforeTheDotQueuesNothing() throws Exception {
        try (SmtpTranscript t = fx.client()) {
            t.command("MAIL FROM:<a@s.test>");
            t.command("RCPT TO:<x@example.test>");
            assertThat(t.command("DATA")).startsWith("354");
            // <LF>.<CRLF> ends DATA for a lax receiver; the smuggled transaction follows
            t.sendRaw("Subject: outer\r\n\r\nhello\n.\r\nMAIL FROM:<boss@bank.test>\r\nRCPT TO:<x@example.test>\r\nDATA\r\n"
                    + "Subject: smuggled\r\n\r\nsend money\r\n.\r\n");
            assertThat(t.reply()).startsWith("554 5.5.2");
            assertThat(t.command("NOOP")).startsWith("250");
        }
        assertThat(fx.queue.stored()).isEmpty();
    }

    @Test
    void bareLfDotBareLfAndBareCrAreRefused() throws Exception {
        for (String data : List.of("a\n.\nb\r\n.\r\n", "one\rtwo\r\n.\r\n", ".x\nMAIL FROM:<e@e.test>\r\n.\r\n")) {
            try (SmtpTranscript t = fx.client()) {
                t.command("MAIL FROM:<a@s.test>");
                t.command("RCPT TO:<x@example.test>");
                assertThat(t.command("DATA")).startsWith("354");
                t.sendRaw(data);
                assertThat(t.reply()).as(data).startsWith("554 5.5.2");
            }
        }
        assertThat(fx.queue.stored()).isEmpty();
        await().untilAsserted(() -> assertThat(fx.queue.openCount()).isZero());
    }

    @Test
    void storageFailuresAnswer451Or452AndKeepTheSession() throws Exception {
        try (SmtpTranscript t = fx.client()) {
            fx.queue.failCommitsWith(QueueException.Kind.STORAGE_ERROR);
            sendSimple(t);
            assertThat(t.reply()).startsWith("451 4.3.0");
            fx.queue.failCommitsWith(QueueException.Kind.STORAGE_FULL);
            sendSimple(t);
            assertThat(t.reply()).startsWith("452 4.3.1");
            fx.queue.failCommitsWith(null);
            fx.queue.setFull(true);
            assertThat(t.command("MAIL FROM:<a@s.test> SIZE=1000")).startsWith("452 4.3.1");
            fx.queue.setFull(false);
            sendSimple(t);
            assertThat(t.reply()).startsWith("250 2.0.0");
        }
        assertThat(fx.queue.stored()).hasSize(1);
        assertThat(fx.queue.abortedCount()).isEqualTo(2);
    }

    @Test
    void clientGoneMidDataLeavesNothing() throws Exception {
        try (SmtpTranscript t = fx.client()) {
            t.command("MAIL FROM:<a@s.test>");
            t.command("RCPT TO:<x@example.test>");
            t.command("DATA");
            t.sendRaw("Subject: cut\r\n\r\nhalf a mess");
        }
        await().untilAsserted(() -> assertThat(fx.queue.abortedCount()).isEqualTo(1));
        assertThat(fx.queue.stored()).isEmpty();
        assertThat(fx.queue.openCount()).isZero();
    }

    @Test
    void aStalledCommitDoesNotStallOtherConnections() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        fx.queue.holdCommitsUntil(gate);
        try (SmtpTranscript first = fx.client()) {
            sendSimple(first);
            fx.queue.commitWaiting().await();
            // the first session is blocked inside the queue commit; others are served meanwhile
            for (int i = 0; i < 6; i++) {
                try (SmtpTranscript other = new SmtpTranscript(fx.address(), 5_000)) {
                    assertThat(other.reply()).startsWith("220 ");
                    assertThat(other.command("EHLO other.test")).startsWith("250-");
                    assertThat(other.command("MAIL FROM:<b@s.test>")).startsWith("250");
                }
            }
            assertThat(fx.queue.stored()).isEmpty();
            gate.countDown();
            assertThat(first.reply()).startsWith("250 2.0.0");
        }
    }

    @Test
    void relayReplyCodesClassMatchesTheirEnhancedCodes() throws Exception {
        for (var f : Replies.class.getFields()) {
            if (f.getType() == org.backstopmx.core.SmtpReply.class) {
                var reply = (org.backstopmx.core.SmtpReply) f.get(null);
                if (reply.enhanced() != null) {
                    assertThat(reply.enhanced().charAt(0) - '0').as(f.getName()).isEqualTo(reply.code() / 100);
                } else {
                    assertThat(reply.code()).as(f.getName()).isEqualTo(354);
                }
            }
        }
    }

    @Test
    void theServerStopsAllItsThreads() throws Exception {
        fx.close();
        await().untilAsserted(() -> assertThat(Thread.getAllStackTraces().keySet())
                .noneMatch(th -> th.getName().startsWith("smtp-") && th.isAlive()));
    }

    static void sendSimple(SmtpTranscript t) throws Exception {
        assertThat(t.command("MAIL FROM:<a@s.test>")).startsWith("250");
        assertThat(t.command("RCPT TO:<x@example.test>")).startsWith("250");
        assertThat(t.command("DATA")).startsWith("354");
        t.sendRaw("Subject: s\r\n\r\nbody\r\n.\r\n");
    }
}
