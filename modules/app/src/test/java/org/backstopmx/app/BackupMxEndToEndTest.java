package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.backstopmx.core.QueuedMessage;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.HostPort;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.SmtpTranscript;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import jakarta.mail.Session;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole appliance in one JVM, as a sending server and the primary see it: mail in over SMTP (Angus Mail), held
 * while the primary is down, handed on byte for byte once it is back (found by the probe, or told by ETRN), bounces to
 * the sender's server. Real sockets on 127.0.0.1, a real H2 queue on disk; waits are for events, not for times.
 */
class BackupMxEndToEndTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private FakePrimaryMx primary;
    private FakePrimaryMx senderMx;
    private Appliance appliance;

    private void start(Duration probeInterval) throws Exception {
        primary = FakePrimaryMx.start();
        senderMx = FakePrimaryMx.start();
        BackstopConfig config = InProcessConfig.serving(dir, primary.port(), probeInterval)
                .withRoutes(Map.of("sender.test", new HostPort("127.0.0.1", senderMx.port())));
        appliance = Appliance.start(config, Clock.systemUTC());
    }

    @AfterEach
    void stop() throws Exception {
        if (appliance != null) {
            appliance.close();
        }
        if (primary != null) {
            primary.close();
            senderMx.close();
        }
    }

    @Test
    void heldWhileThePrimaryIsDownAndDeliveredByteForByteWhenTheProbeSeesItBack() throws Exception {
        start(Duration.ofSeconds(1));
        primary.stop();
        List<byte[]> sent = sendAll(3, "bob@example.test");

        // a refused connection marks the primary down; what arrives after that waits without an attempt (how many
        // were tried before depends on how fast the sessions go, so only the end state is asserted here; the
        // forwarder's own tests pin the "no attempt while down" rule with a moved clock)
        await().atMost(WAIT).until(() -> appliance.forwarder().isDown("example.test")
                && states().contains(RecipientState.DEFERRED) && states().size() == 3);
        assertThat(states()).isSubsetOf(RecipientState.DEFERRED, RecipientState.QUEUED);
        assertThat(primary.transactions()).isEmpty();

        primary.restart();
        await().atMost(WAIT).until(() -> primary.transactions().size() == 3 && appliance.queue().list(10).isEmpty());
        assertDeliveredExactly(sent);
    }

    @Test
    void passesMailThroughAtOnceWhileThePrimaryIsUp() throws Exception {
        start(Duration.ofHours(1));
        List<byte[]> sent = sendAll(2, "bob@example.test");
        await().atMost(WAIT).until(() -> primary.transactions().size() == 2 && appliance.queue().list(10).isEmpty());
        assertDeliveredExactly(sent);
    }

    @Test
    void mailSentInBdatChunksIsPassedOnByteForByte() throws Exception {
        start(Duration.ofHours(1));
        Session session = TestMail.session(appliance.smtpAddress());
        session.getProperties().put("mail.smtp.chunksize", "100"); // RFC 3030: Angus sends BDAT when offered CHUNKING
        ByteArrayOutputStream transcript = new ByteArrayOutputStream();
        session.setDebugOut(new PrintStream(transcript, true, StandardCharsets.ISO_8859_1));
        session.setDebug(true);
        List<byte[]> sent = sendAll(session, 2, "bob@example.test");
        assertThat(transcript.toString(StandardCharsets.ISO_8859_1)).contains("250-CHUNKING", "BDAT 100", " LAST")
                .doesNotContain("354 ");
        await().atMost(WAIT).until(() -> primary.transactions().size() == 2 && appliance.queue().list(10).isEmpty());
        // Angus 2.0.4 dot-stuffs BDAT content as if it were DATA (eclipse-ee4j/angus-mail#209); RFC 3030 chunks are
        // not un-stuffed, so what it put in its chunks, extra dots included, is what must come out
        assertDeliveredExactly(sent.stream().map(BackupMxEndToEndTest::dotStuffed).toList());
    }

    private static byte[] dotStuffed(byte[] message) {
        String text = new String(message, StandardCharsets.ISO_8859_1);
        String stuffed = (text.startsWith(".") ? "." : "") + text.replace("\r\n.", "\r\n..");
        return stuffed.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void etrnFromThePrimaryFlushesTheQueue() throws Exception {
        start(Duration.ofHours(1)); // no probe in this test's lifetime: only ETRN can bring the mail out
        primary.stop();
        List<byte[]> sent = sendAll(1, "bob@example.test");
        await().atMost(WAIT).until(() -> states().equals(List.of(RecipientState.DEFERRED)));
        primary.restart();

        try (SmtpTranscript etrn = new SmtpTranscript(appliance.smtpAddress())) {
            assertThat(etrn.reply()).startsWith("220");
            assertThat(etrn.command("EHLO primary.example.test")).contains("ETRN");
            assertThat(etrn.command("ETRN example.test")).startsWith("250 2.0.0");
            assertThat(etrn.command("ETRN other.test")).startsWith("459 4.7.1");
        }
        await().atMost(WAIT).until(() -> primary.transactions().size() == 1 && appliance.queue().list(10).isEmpty());
        assertDeliveredExactly(sent);
    }

    @Test
    void aRecipientThePrimaryRefusesIsBouncedToTheSender() throws Exception {
        start(Duration.ofHours(1));
        primary.recipientReply("nobody@example.test", "550 5.1.1 <nobody@example.test>: Recipient address rejected");
        Session session = TestMail.session(appliance.smtpAddress());
        try (SMTPTransport t = (SMTPTransport) session.getTransport("smtp")) {
            t.connect();
            TestMail.send(t, session, TestMail.message("partial", 3), "nobody@example.test");
        }
        await().atMost(WAIT).until(() -> senderMx.transactions().size() == 1 && appliance.queue().list(10).isEmpty());
        FakePrimaryMx.Transaction dsn = senderMx.transactions().get(0);
        assertThat(dsn.mailFrom()).startsWith("FROM:<>");
        assertThat(dsn.rcptTo()).singleElement().asString().startsWith("TO:<alice@sender.test>");
        assertThat(new String(dsn.data(), StandardCharsets.UTF_8)).contains("report-type=delivery-status",
                "Final-Recipient: rfc822; nobody@example.test", "Action: failed", "Status: 5.1.1",
                "Diagnostic-Code: smtp; 550 5.1.1", "Message-ID: <partial@sender.test>");
    }

    @Test
    void aUtf8MessageGoesToAPrimaryWithSmtputf8ByteForByte() throws Exception {
        start(Duration.ofHours(1));
        primary.capabilities("PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES");
        String message = "From: J\u00f6rg <j\u00f6rg@sender.test>\r\nSubject: Gr\u00fc\u00dfe\r\n\r\n"
                + ".\u00c4rger\r\n";
        try (SmtpTranscript t = utf8Session()) {
            assertThat(utf8(t, "MAIL FROM:<j\u00f6rg@sender.test> SMTPUTF8")).startsWith("250");
            assertThat(utf8(t, "RCPT TO:<\u7528\u6237@example.test>")).startsWith("250");
            assertThat(t.command("DATA")).startsWith("354");
            t.sendBytes((message.replace("\r\n.", "\r\n..") + ".\r\n").getBytes(StandardCharsets.UTF_8)); // dot-stuffed
            assertThat(t.reply()).startsWith("250 2.0.0");
        }
        await().atMost(WAIT).until(() -> primary.transactions().size() == 1 && appliance.queue().list(10).isEmpty());
        FakePrimaryMx.Transaction got = primary.transactions().get(0);
        assertThat(got.mailFrom()).isEqualTo("FROM:<j\u00f6rg@sender.test> BODY=8BITMIME SMTPUTF8");
        assertThat(got.rcptTo()).singleElement().asString().startsWith("TO:<\u7528\u6237@example.test>");
        assertThat(new String(got.data(), StandardCharsets.UTF_8)).contains(" with UTF8SMTP id ").endsWith(message);
    }

    @Test
    void onceThePrimaryIsKnownToLackSmtputf8AUtf8MessageIsRefusedAtIntake() throws Exception {
        start(Duration.ofHours(1));
        primary.capabilities("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES");
        List<byte[]> sent = sendAll(1, "bob@example.test");
        await().atMost(WAIT).until(() -> primary.transactions().size() == 1 && appliance.queue().list(10).isEmpty());
        try (SmtpTranscript t = utf8Session()) {
            assertThat(utf8(t, "MAIL FROM:<j\u00f6rg@sender.test> SMTPUTF8")).startsWith("250");
            assertThat(t.command("RCPT TO:<bob@example.test>"))
                    .isEqualTo("553 5.6.7 The mail server for example.test does not support SMTPUTF8");
        }
        assertDeliveredExactly(sent);
        assertThat(appliance.queue().list(10)).isEmpty();
    }

    @Test
    void onceThePrimaryHasAdvertisedItsSizeLargerMailIsRefusedAtMailAndAfterTheDot() throws Exception {
        start(Duration.ofHours(1));
        primary.capabilities("PIPELINING", "8BITMIME", "SIZE 1000000", "ENHANCEDSTATUSCODES");
        List<byte[]> sent = sendAll(1, "bob@example.test"); // the first session teaches Backstop the primary's SIZE
        await().atMost(WAIT).until(() -> primary.transactions().size() == 1 && appliance.queue().list(10).isEmpty());
        try (SmtpTranscript t = utf8Session()) {
            assertThat(t.command("EHLO client.test")).contains("250-SIZE 1000000");
            assertThat(t.command("MAIL FROM:<alice@sender.test> SIZE=2000000")).startsWith("552 5.3.4");
            assertThat(t.command("MAIL FROM:<alice@sender.test>")).startsWith("250");
            assertThat(t.command("RCPT TO:<bob@example.test>")).startsWith("250");
            assertThat(t.command("DATA")).startsWith("354");
            t.sendRaw("Subject: two megabytes\r\n\r\n" + ("x".repeat(998) + "\r\n").repeat(2000) + ".\r\n");
            assertThat(t.reply()).startsWith("552 5.3.4");
        }
        assertDeliveredExactly(sent);
        assertThat(appliance.queue().list(10)).isEmpty();
    }

    private SmtpTranscript utf8Session() throws Exception {
        SmtpTranscript t = new SmtpTranscript(appliance.smtpAddress());
        assertThat(t.reply()).startsWith("220");
        assertThat(t.command("EHLO client.test")).contains("SMTPUTF8");
        return t;
    }

    private static String utf8(SmtpTranscript t, String line) throws Exception {
        t.sendBytes((line + "\r\n").getBytes(StandardCharsets.UTF_8));
        return t.reply();
    }

    private List<byte[]> sendAll(int count, String recipient) throws Exception {
        return sendAll(TestMail.session(appliance.smtpAddress()), count, recipient);
    }

    private List<byte[]> sendAll(Session session, int count, String recipient) throws Exception {
        List<byte[]> wire = new ArrayList<>();
        try (SMTPTransport t = (SMTPTransport) session.getTransport("smtp")) {
            t.connect();
            for (int i = 0; i < count; i++) {
                byte[] raw = TestMail.message("e2e-" + i, 20);
                TestMail.send(t, session, raw, recipient);
                wire.add(TestMail.onTheWire(session, raw));
            }
        }
        return wire;
    }

    /** What the primary got is what was sent, after our own Received: header and nothing else. */
    private void assertDeliveredExactly(List<byte[]> sent) {
        List<String> expected = sent.stream().map(b -> new String(b, StandardCharsets.ISO_8859_1)).toList();
        List<String> got = new ArrayList<>();
        for (FakePrimaryMx.Transaction t : primary.transactions()) {
            String data = new String(t.data(), StandardCharsets.ISO_8859_1);
            assertThat(data).startsWith("Received: from client.test");
            int end = data.indexOf("\r\n", 0);
            while (data.charAt(end + 2) == ' ' || data.charAt(end + 2) == '\t') { // folded header continues
                end = data.indexOf("\r\n", end + 2);
            }
            got.add(data.substring(end + 2));
        }
        assertThat(got).containsExactlyInAnyOrderElementsOf(expected);
    }

    private List<RecipientState> states() {
        List<RecipientState> out = new ArrayList<>();
        for (QueuedMessage m : appliance.queue().list(100)) {
            m.recipients().forEach(r -> out.add(r.state()));
        }
        return out;
    }
}
