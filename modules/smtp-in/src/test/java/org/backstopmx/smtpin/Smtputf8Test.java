package org.backstopmx.smtpin;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.EtrnService;
import org.backstopmx.core.MailExtension;
import org.backstopmx.core.PrimaryCapabilities;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.SmtpConfig;
import org.backstopmx.testkit.RecordingMailQueue;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** SMTPUTF8 (RFC 6531) in: transcripts over a real socket, the stored envelope and body checked byte for byte. */
class Smtputf8Test {
    private static final String JOERG = "j\u00f6rg@b\u00fccher.example";
    private static final String USER = "\u7528\u6237@example.test";
    private ServerFixture fx;

    @AfterEach
    void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    private ServerFixture start(PrimaryCapabilities primaries) throws Exception {
        fx = new ServerFixture(SmtpConfig.defaults(), Map.of(
                "example.test", DomainConfig.acceptAll("example.test"),
                "xn--bcher-kva.test", DomainConfig.acceptAll("xn--bcher-kva.test"),
                "listed.test", new DomainConfig("listed.test", null, Set.of("z\u00fcrich"), null)),
                (domain, client) -> EtrnService.Result.UNAVAILABLE, primaries);
        return fx;
    }

    /** Sends one command line as UTF-8 bytes and reads the reply. */
    private static String utf8(SmtpTranscript t, String line) throws Exception {
        t.sendBytes((line + "\r\n").getBytes(StandardCharsets.UTF_8));
        return t.reply();
    }

    @Test
    void aUtf8MessageIsStoredWithItsAddressesAndHeaderExactly() throws Exception {
        start(PrimaryCapabilities.UNKNOWN);
        String message = "From: J\u00f6rg <" + JOERG + ">\r\nSubject: Gr\u00fc\u00dfe aus M\u00fcnchen \u2603\r\n\r\n"
                + "\u00c4rger? Nein.\r\n";
        try (SmtpTranscript t = fx.client()) {
            assertThat(utf8(t, "MAIL FROM:<" + JOERG + "> SMTPUTF8 BODY=8BITMIME")).startsWith("250 2.1.0");
            assertThat(utf8(t, "RCPT TO:<" + USER + ">")).startsWith("250 2.1.5");
            assertThat(t.command("DATA")).startsWith("354");
            t.sendBytes((message + ".\r\n").getBytes(StandardCharsets.UTF_8));
            assertThat(t.reply()).startsWith("250 2.0.0");
        }
        RecordingMailQueue.Stored stored = fx.queue.stored().get(0);
        // the domain in its ASCII form, which every server takes; the local parts as sent
        assertThat(stored.envelope().sender()).isEqualTo("j\u00f6rg@xn--bcher-kva.example");
        assertThat(stored.envelope().recipients()).containsExactly(EnvelopeRecipient.of(USER));
        assertThat(stored.envelope().extensions()).containsExactlyInAnyOrder(MailExtension.SMTPUTF8,
                MailExtension.EIGHTBITMIME);
        String body = new String(stored.body(), StandardCharsets.UTF_8);
        assertThat(body).startsWith("Received: from client.test ([127.0.0.1])\r\n")
                .contains(" with UTF8SMTP id ").contains("\tfor <" + USER + ">; ").endsWith(message);
    }

    @Test
    void utf8InAnAddressNeedsTheSmtputf8ParameterOnMail() throws Exception {
        start(PrimaryCapabilities.UNKNOWN);
        try (SmtpTranscript t = fx.client()) {
            assertThat(utf8(t, "MAIL FROM:<" + JOERG + ">"))
                    .isEqualTo("553 5.6.7 Must declare SMTPUTF8 to send unicode address");
            assertThat(t.command("MAIL FROM:<a@s.test>")).startsWith("250 2.1.0");
            assertThat(utf8(t, "RCPT TO:<" + USER + ">"))
                    .isEqualTo("553 5.6.7 Must declare SMTPUTF8 to send unicode address");
            assertThat(t.command("RSET")).startsWith("250");
            // the keyword in any case; with a value it is a syntax error
            assertThat(utf8(t, "MAIL FROM:<" + JOERG + "> SMTPUTF8=yes"))
                    .isEqualTo("501 5.5.4 Bad SMTPUTF8 parameter: it takes no value");
            assertThat(utf8(t, "MAIL FROM:<" + JOERG + "> smtputf8")).startsWith("250 2.1.0");
            assertThat(utf8(t, "RCPT TO:<" + USER + ">")).startsWith("250 2.1.5");
            // the sequence checks still come first
            assertThat(utf8(t, "MAIL FROM:<" + JOERG + "> SMTPUTF8")).startsWith("503");
        }
        try (SmtpTranscript t = fx.client()) {
            assertThat(utf8(t, "RCPT TO:<" + USER + ">")).startsWith("503");
        }
    }

    @Test
    void malformedUtf8AndBadSyntaxAreRefusedWithTheAddressCodes() throws Exception {
        start(PrimaryCapabilities.UNKNOWN);
        try (SmtpTranscript t = fx.client()) {
            // C3 28 is not UTF-8
            t.sendBytes(bytes("MAIL FROM:<j", 0xc3, 0x28, "rg@s.test> SMTPUTF8\r\n"));
            assertThat(t.reply()).isEqualTo("501 5.1.7 Bad sender address syntax");
            assertThat(utf8(t, "MAIL FROM:<j\u00f6..rg@s.test> SMTPUTF8")).isEqualTo("501 5.1.7 Bad sender address syntax");
            assertThat(utf8(t, "MAIL FROM:<" + JOERG + "> SMTPUTF8")).startsWith("250 2.1.0");
            t.sendBytes(bytes("RCPT TO:<", 0xff, "@example.test>\r\n"));
            assertThat(t.reply()).isEqualTo("501 5.1.3 Bad recipient address syntax");
            // a quoted local part is refused by relay control, with UTF-8 in it or not
            assertThat(utf8(t, "RCPT TO:<\"j\u00f6rg smith\"@example.test>")).startsWith("550 5.7.1");
            assertThat(utf8(t, "RCPT TO:<j\u00f6rg.smith@example.test>")).startsWith("250 2.1.5");
            assertThat(t.command("DATA")).startsWith("354");
            t.sendRaw("Subject: s\r\n\r\nb\r\n.\r\n");
            assertThat(t.reply()).startsWith("250 2.0.0");
        }
        assertThat(fx.queue.stored().get(0).envelope().recipients())
                .containsExactly(EnvelopeRecipient.of("j\u00f6rg.smith@example.test"));
    }

    @Test
    void aUtf8RecipientIsCheckedAgainstTheRecipientListAndAUtf8DomainMatchesItsAsciiForm() throws Exception {
        start(PrimaryCapabilities.UNKNOWN);
        try (SmtpTranscript t = fx.client()) {
            assertThat(t.command("MAIL FROM:<a@s.test> SMTPUTF8")).startsWith("250 2.1.0");
            assertThat(utf8(t, "RCPT TO:<z\u00fcrich@listed.test>")).startsWith("250 2.1.5");
            assertThat(utf8(t, "RCPT TO:<g\u00e9n\u00e8ve@listed.test>")).startsWith("550 5.1.1");
            assertThat(utf8(t, "RCPT TO:<info@b\u00fccher.test>")).startsWith("250 2.1.5");
            assertThat(utf8(t, "RCPT TO:<j\u00f6rg@b\u00fccher.example>")).startsWith("550 5.7.1");
            assertThat(t.command("DATA")).startsWith("354");
            t.sendRaw("Subject: s\r\n\r\nb\r\n.\r\n");
            assertThat(t.reply()).startsWith("250 2.0.0");
        }
        assertThat(fx.queue.stored().get(0).envelope().recipients()).containsExactly(
                EnvelopeRecipient.of("z\u00fcrich@listed.test"), EnvelopeRecipient.of("info@xn--bcher-kva.test"));
    }

    @Test
    void aMessageNeedsAnExtensionOnlyWhenItHasWhatTheExtensionCarries() throws Exception {
        start(PrimaryCapabilities.UNKNOWN);
        try (SmtpTranscript t = fx.client()) {
            // declared, all ASCII: needs nothing
            send(t, "MAIL FROM:<a@s.test> SMTPUTF8", "RCPT TO:<b@example.test>", "Subject: plain\r\n\r\nplain\r\n");
            // not declared, 8-bit body: needs 8BITMIME only
            send(t, "MAIL FROM:<a@s.test> BODY=8BITMIME", "RCPT TO:<b@example.test>", "Subject: x\r\n\r\n\u00e9t\u00e9\r\n");
            // declared, UTF-8 only in the header section
            send(t, "MAIL FROM:<a@s.test> SMTPUTF8", "RCPT TO:<b@example.test>", "Subject: \u00e9t\u00e9\r\n\r\nx\r\n");
        }
        assertThat(fx.queue.stored()).extracting(s -> s.envelope().extensions()).containsExactly(Set.of(),
                Set.of(MailExtension.EIGHTBITMIME), Set.of(MailExtension.SMTPUTF8, MailExtension.EIGHTBITMIME));
    }

    @Test
    void whatThePrimaryIsKnownToLackIsRefusedAtIntake() throws Exception {
        PrimaryCapabilities primaries = (domain, extension) ->
                domain.equals("example.test") || (domain.equals("listed.test") && extension == MailExtension.EIGHTBITMIME);
        start(primaries);
        try (SmtpTranscript t = fx.client()) {
            assertThat(utf8(t, "MAIL FROM:<" + JOERG + "> SMTPUTF8")).startsWith("250 2.1.0");
            // a UTF-8 sender needs SMTPUTF8 from every recipient's primary
            assertThat(t.command("RCPT TO:<b@example.test>"))
                    .isEqualTo("553 5.6.7 The mail server for example.test does not support SMTPUTF8");
            assertThat(t.command("RSET")).startsWith("250");
            assertThat(t.command("MAIL FROM:<a@s.test> SMTPUTF8")).startsWith("250 2.1.0");
            assertThat(t.command("RCPT TO:<b@example.test>")).startsWith("250 2.1.5");
            assertThat(t.command("DATA")).startsWith("354");
            t.sendBytes("Subject: \u00e9t\u00e9\r\n\r\nx\r\n.\r\n".getBytes(StandardCharsets.UTF_8));
            assertThat(t.reply()).isEqualTo("554 5.6.7 Message refused: it needs SMTPUTF8, which the mail server for"
                    + " example.test does not support");
            assertThat(t.command("MAIL FROM:<a@s.test>")).startsWith("250 2.1.0");
            assertThat(utf8(t, "RCPT TO:<z\u00fcrich@listed.test>")).startsWith("553 5.6.7");
            assertThat(t.command("RCPT TO:<b@listed.test>")).startsWith("550 5.1.1");
            assertThat(t.command("RCPT TO:<b@example.test>")).startsWith("250 2.1.5");
            assertThat(t.command("DATA")).startsWith("354");
            t.sendBytes("Subject: s\r\n\r\n\u00e9t\u00e9\r\n.\r\n".getBytes(StandardCharsets.UTF_8));
            assertThat(t.reply()).startsWith("554 5.6.3 Message refused: it has 8-bit content");
            // 7-bit mail still goes through
            send(t, "MAIL FROM:<a@s.test> SMTPUTF8", "RCPT TO:<b@example.test>", "Subject: s\r\n\r\nplain\r\n");
        }
        assertThat(fx.queue.stored()).hasSize(1);
        assertThat(fx.queue.abortedCount()).isEqualTo(2);
    }

    private static void send(SmtpTranscript t, String mail, String rcpt, String message) throws Exception {
        assertThat(utf8(t, mail)).startsWith("250 2.1.0");
        assertThat(utf8(t, rcpt)).startsWith("250 2.1.5");
        assertThat(t.command("DATA")).startsWith("354");
        t.sendBytes((message + ".\r\n").getBytes(StandardCharsets.UTF_8));
        assertThat(t.reply()).startsWith("250 2.0.0");
    }

    private static byte[] bytes(Object... parts) {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        for (Object p : parts) {
            if (p instanceof Integer i) {
                b.write(i);
            } else {
                b.writeBytes(((String) p).getBytes(StandardCharsets.UTF_8));
            }
        }
        return b.toByteArray();
    }
}
