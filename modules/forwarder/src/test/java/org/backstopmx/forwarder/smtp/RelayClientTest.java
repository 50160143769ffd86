package org.backstopmx.forwarder.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.DsnRet;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.MailExtension;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.core.SmtpStage;
import org.backstopmx.forwarder.FailurePolicy;
import org.backstopmx.testkit.FakePrimaryMx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The relay client against a scripted primary on a real socket. */
class RelayClientTest {
    private static final RelaySettings SETTINGS =
            new RelaySettings("backup.example", SmtpTimeouts.all(Duration.ofSeconds(10)), TlsPolicy.OPPORTUNISTIC);
    private static final RelaySettings SHORT =
            new RelaySettings("backup.example", SmtpTimeouts.all(Duration.ofMillis(300)), TlsPolicy.OPPORTUNISTIC);
    private static final String HOST = "localhost[127.0.0.1]";

    private FakePrimaryMx primary;

    @BeforeEach
    void startPrimary() throws IOException {
        primary = FakePrimaryMx.start();
    }

    @AfterEach
    void stopPrimary() throws IOException {
        primary.close();
    }

    private RelayClient open(RelaySettings settings) {
        return RelayClient.open("localhost", InetAddress.getLoopbackAddress(), primary.port(), settings);
    }

    private RelayClient open() {
        return open(SETTINGS);
    }

    /** A recipient's fact as the failure policy reads it: what these tests check. */
    private record Relayed(EnvelopeRecipient recipient, DeliveryOutcome outcome, String detail) {
    }

    private static List<Relayed> send(RelayClient client, RelayMessage m) {
        return client.send(m).stream().map(f -> {
            DeliveryOutcome o = FailurePolicy.outcome(client.host(), f);
            return new Relayed(f.recipient(), o, o.detail());
        }).toList();
    }

    private static Optional<DeliveryOutcome> failure(RelayClient client) {
        return client.failure().map(f -> FailurePolicy.sessionFailed(client.host(), f));
    }

    private static RelayMessage message(String sender, byte[] body, String... rcpts) {
        List<EnvelopeRecipient> list = Arrays.stream(rcpts).map(EnvelopeRecipient::of).toList();
        return new RelayMessage(sender, null, null, body.length, list, () -> new ByteArrayInputStream(body));
    }

    private static RelayMessage message(String... rcpts) {
        return message("sender@origin.example", simpleBody(), rcpts);
    }

    private static byte[] simpleBody() {
        return "Subject: hi\r\n\r\nhello\r\n".getBytes(StandardCharsets.US_ASCII);
    }

    /** The message stored with the tricky parts: 8-bit bytes, a 998-octet line, leading dots, a lone dot. */
    private static byte[] trickyBody() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes("From: a@origin.example\r\nSubject: dots\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        b.writeBytes(".leading dot\r\n.\r\n..two dots\r\nmiddle . dot\r\n".getBytes(StandardCharsets.US_ASCII));
        b.writeBytes(new byte[] {'c', 'a', 'f', (byte) 0xE9, ' ', (byte) 0xFF, (byte) 0x80, '\r', '\n'});
        byte[] longLine = new byte[998];
        Arrays.fill(longLine, (byte) 'x');
        longLine[0] = '.';
        b.writeBytes(longLine);
        b.writeBytes("\r\n.\r\nlast\r\n".getBytes(StandardCharsets.US_ASCII));
        return b.toByteArray();
    }

    /** Dot-stuffing done the obvious way, to compare with the client's streaming one. */
    private static byte[] stuffed(byte[] stored) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        boolean lineStart = true;
        for (byte x : stored) {
            if (lineStart && x == '.') {
                b.write('.');
            }
            b.write(x);
            lineStart = x == '\n';
        }
        return b.toByteArray();
    }

    private static void assertDelivered(Relayed o) {
        assertThat(o.outcome()).isInstanceOf(DeliveryOutcome.Delivered.class);
        assertThat(o.outcome().stage()).isEqualTo(SmtpStage.DOT);
        assertThat(o.outcome().host()).isEqualTo(HOST);
        assertThat(o.outcome().reply().code()).isEqualTo(250);
    }

    @Test
    void storedBytesGoOnTheWireDotStuffedAndArriveUnchanged() {
        byte[] body = trickyBody();
        try (RelayClient client = open()) {
            List<Relayed> out = send(client, message("sender@origin.example", body, "rcpt@primary.example"));
            assertThat(out).hasSize(1);
            assertDelivered(out.get(0));
            assertThat(out.get(0).outcome().reply()).isEqualTo(SmtpReply.of(250, "2.0.0", "Ok: queued"));
        }
        FakePrimaryMx.Transaction t = primary.transactions().get(0);
        assertThat(t.wireData()).isEqualTo(stuffed(body));
        assertThat(t.data()).isEqualTo(body);
        assertThat(t.mailFrom()).startsWith("FROM:<sender@origin.example>");
        assertThat(t.rcptTo()).containsExactly("TO:<rcpt@primary.example>");
    }

    @Test
    void nullSenderIsSentAsEmptyPath() {
        try (RelayClient client = open()) {
            assertDelivered(send(client, message("", simpleBody(), "rcpt@primary.example")).get(0));
        }
        assertThat(primary.commands()).anyMatch(c -> c.startsWith("MAIL FROM:<> "));
    }

    private static RelayMessage withDsn() {
        byte[] body = simpleBody();
        return new RelayMessage("sender@origin.example", "abc+2Bdef", DsnRet.HDRS, body.length,
                List.of(new EnvelopeRecipient("rcpt@primary.example", "SUCCESS,FAILURE", "rfc822;rcpt@primary.example"),
                        EnvelopeRecipient.of("plain@primary.example")),
                () -> new ByteArrayInputStream(body));
    }

    @Test
    void everyParameterIsPassedWhenAdvertised() {
        primary.capabilities("PIPELINING", "SIZE 1000", "8BITMIME", "DSN");
        try (RelayClient client = open()) {
            assertThat(client.capabilities()).isEqualTo(new EhloCapabilities(true, 1000, true, true, true, false, false, false));
            send(client, withDsn()).forEach(RelayClientTest::assertDelivered);
        }
        int size = simpleBody().length;
        assertThat(primary.commands()).containsSubsequence(
                "MAIL FROM:<sender@origin.example> SIZE=" + size + " BODY=8BITMIME RET=HDRS ENVID=abc+2Bdef",
                "RCPT TO:<rcpt@primary.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;rcpt@primary.example",
                "RCPT TO:<plain@primary.example>",
                "DATA");
    }

    @Test
    void noParameterIsPassedWhenNotAdvertised() {
        primary.capabilities("ENHANCEDSTATUSCODES");
        try (RelayClient client = open()) {
            send(client, withDsn()).forEach(RelayClientTest::assertDelivered);
        }
        assertThat(primary.commands()).containsExactly(
                "EHLO backup.example",
                "MAIL FROM:<sender@origin.example>",
                "RCPT TO:<rcpt@primary.example>",
                "RCPT TO:<plain@primary.example>",
                "DATA",
                "QUIT");
    }

    @Test
    void heloWhenEhloIsRefused() {
        primary.refuseEhlo();
        try (RelayClient client = open()) {
            assertThat(client.capabilities()).isEqualTo(EhloCapabilities.NONE);
            assertDelivered(send(client, withDsn()).get(0));
        }
        assertThat(primary.commands()).startsWith("EHLO backup.example", "HELO backup.example",
                "MAIL FROM:<sender@origin.example>");
    }

    @Test
    void messageLargerThanAdvertisedSizeIsRefusedWithoutSending() {
        primary.capabilities("PIPELINING", "SIZE 100");
        byte[] big = trickyBody();
        try (RelayClient client = open()) {
            List<Relayed> out = send(client, message("s@origin.example", big, "a@primary.example",
                    "b@primary.example"));
            assertThat(out).extracting(Relayed::outcome).allSatisfy(o -> {
                assertThat(o).isInstanceOf(DeliveryOutcome.Permanent.class);
                assertThat(o.stage()).isEqualTo(SmtpStage.MAIL);
                assertThat(o.reply().code()).isEqualTo(552);
                assertThat(o.reply().enhanced()).isEqualTo("5.3.4");
            });
            assertThat(client.isOpen()).isTrue();
            assertDelivered(send(client, message("a@primary.example")).get(0));
        }
        assertThat(primary.verbs()).containsExactly("EHLO", "MAIL", "RCPT", "DATA", "QUIT");
    }

    private static RelayMessage needing(String sender, byte[] body, java.util.Set<MailExtension> needs, String rcpt) {
        return new RelayMessage(sender, null, null, body.length, List.of(EnvelopeRecipient.of(rcpt)),
                () -> new ByteArrayInputStream(body), needs);
    }

    @Test
    void aUtf8MessageGoesWithSmtputf8ToAServerThatOffersItAndArrivesUnchanged() {
        primary.capabilities("PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES");
        byte[] body = "Subject: Gr\u00fc\u00dfe\r\n\r\n\u00c4rger\r\n".getBytes(StandardCharsets.UTF_8);
        try (RelayClient client = open()) {
            assertThat(client.capabilities().offers(MailExtension.SMTPUTF8)).isTrue();
            assertDelivered(send(client, needing("j\u00f6rg@origin.example", body,
                    java.util.Set.of(MailExtension.SMTPUTF8, MailExtension.EIGHTBITMIME), "\u7528\u6237@primary.example")).get(0));
            // a message that does not need it goes without the parameter
            assertDelivered(send(client, message("a@primary.example")).get(0));
        }
        assertThat(primary.commands()).containsSubsequence(
                "MAIL FROM:<j\u00f6rg@origin.example> BODY=8BITMIME SMTPUTF8", "RCPT TO:<\u7528\u6237@primary.example>",
                "MAIL FROM:<sender@origin.example> BODY=8BITMIME", "RCPT TO:<a@primary.example>");
        assertThat(primary.transactions().get(0).data()).isEqualTo(body);
    }

    @ParameterizedTest(name = "{0} needed, not offered: {1}")
    @CsvSource({"SMTPUTF8, 5.6.7", "EIGHTBITMIME, 5.6.3"})
    void aMessageNeedingWhatTheServerLacksFailsWithoutBeingSent(MailExtension needed, String enhanced) {
        primary.capabilities("PIPELINING", needed == MailExtension.SMTPUTF8 ? "8BITMIME" : "SMTPUTF8");
        byte[] body = "Subject: \u00e9t\u00e9\r\n\r\nx\r\n".getBytes(StandardCharsets.UTF_8);
        try (RelayClient client = open()) {
            DeliveryOutcome o = send(client, needing("s@origin.example", body, java.util.Set.of(needed),
                    "a@primary.example")).get(0).outcome();
            assertThat(o).isInstanceOf(DeliveryOutcome.Permanent.class);
            assertThat(o.reply().enhanced()).isEqualTo(enhanced);
            assertThat(o.reply().text()).contains("does not support " + needed.keyword());
            assertThat(client.isOpen()).isTrue();
        }
        assertThat(primary.verbs()).containsExactly("EHLO", "QUIT");
    }

    @Test
    void pipelinesMailRcptAndDataWhenOffered() {
        primary.capabilities("PIPELINING");
        try (RelayClient client = open()) {
            send(client, message("a@primary.example", "b@primary.example", "c@primary.example"))
                    .forEach(RelayClientTest::assertDelivered);
        }
        // EHLO; MAIL + 3 RCPT + DATA in one write; QUIT
        assertThat(primary.commandsPerRead()).containsExactly(1, 5, 1);
    }

    @Test
    void lockStepWhenPipeliningIsNotOffered() {
        primary.capabilities("8BITMIME");
        try (RelayClient client = open()) {
            send(client, message("a@primary.example", "b@primary.example")).forEach(RelayClientTest::assertDelivered);
        }
        assertThat(primary.commandsPerRead()).containsExactly(1, 1, 1, 1, 1, 1);
    }

    @ParameterizedTest(name = "pipelining={0}")
    @ValueSource(booleans = {true, false})
    void oneResultPerRecipientForMixedReplies(boolean pipelining) {
        primary.capabilities(pipelining ? new String[] {"PIPELINING"} : new String[0])
                .recipientReply("later@primary.example", "450 4.2.1 mailbox busy")
                .recipientReply("never@primary.example", "550 5.1.1 no such user");
        List<Relayed> out;
        try (RelayClient client = open()) {
            out = send(client, message("ok@primary.example", "later@primary.example", "never@primary.example"));
        }
        assertThat(out).extracting(r -> r.recipient().address())
                .containsExactly("ok@primary.example", "later@primary.example", "never@primary.example");
        assertDelivered(out.get(0));
        assertThat(out.get(1).outcome()).isEqualTo(new DeliveryOutcome.Transient(
                SmtpReply.of(450, "4.2.1", "mailbox busy"), HOST, SmtpStage.RCPT));
        assertThat(out.get(2).outcome()).isEqualTo(new DeliveryOutcome.Permanent(
                SmtpReply.of(550, "5.1.1", "no such user"), HOST, SmtpStage.RCPT));
        assertThat(primary.transactions()).singleElement()
                .satisfies(t -> assertThat(t.rcptTo()).containsExactly("TO:<ok@primary.example>"));
    }

    @Test
    void reportsTheReplyThatSettledEachRecipientAndNotWhatItMeans() {
        primary.capabilities("PIPELINING").recipientReply("never@primary.example", "550 5.1.1 no such user");
        try (RelayClient client = open()) {
            assertThat(client.send(message("ok@primary.example", "never@primary.example"))).containsExactly(
                    new RecipientFact.Answered(EnvelopeRecipient.of("ok@primary.example"),
                            SmtpReply.of(250, "2.0.0", "Ok: queued"), SmtpStage.DOT),
                    new RecipientFact.Answered(EnvelopeRecipient.of("never@primary.example"),
                            SmtpReply.of(550, "5.1.1", "no such user"), SmtpStage.RCPT));
        }
    }

    @Test
    void allRecipientsRejectedMeansNoDataThenRsetAndTheConnectionIsReused() {
        primary.capabilities().recipientReply("gone@primary.example", "550 5.1.1 gone")
                .recipientReply("full@primary.example", "452 4.2.2 full");
        try (RelayClient client = open()) {
            List<Relayed> first = send(client, message("gone@primary.example", "full@primary.example"));
            assertThat(first).extracting(r -> r.outcome().kind()).containsExactly("PERMANENT", "TRANSIENT");
            assertThat(client.isOpen()).isTrue();
            assertDelivered(send(client, message("ok@primary.example")).get(0));
        }
        assertThat(primary.verbs()).containsExactly("EHLO", "MAIL", "RCPT", "RCPT", "RSET", "MAIL", "RCPT", "DATA", "QUIT");
        assertThat(primary.connections()).isEqualTo(1);
    }

    @Test
    void allRecipientsRejectedWhilePipeliningGetsTheDataRefusalAndRset() {
        primary.capabilities("PIPELINING").recipientReply("gone@primary.example", "550 5.1.1 gone");
        try (RelayClient client = open()) {
            assertThat(send(client, message("gone@primary.example")).get(0).outcome())
                    .isInstanceOf(DeliveryOutcome.Permanent.class);
            assertDelivered(send(client, message("ok@primary.example")).get(0));
        }
        assertThat(primary.verbs()).containsExactly("EHLO", "MAIL", "RCPT", "DATA", "RSET", "MAIL", "RCPT", "DATA", "QUIT");
        assertThat(primary.commandsPerRead()).containsExactly(1, 3, 4, 1);
        assertThat(primary.transactions()).hasSize(1);
    }

    @Test
    void refusedMailFailsEveryRecipient() {
        primary.capabilities("PIPELINING").answer((verb, arg) -> verb.equals("MAIL") ? "553 5.7.1 sender refused" : null);
        try (RelayClient client = open()) {
            assertThat(send(client, message("a@primary.example", "b@primary.example"))).allSatisfy(r -> {
                assertThat(r.outcome()).isInstanceOf(DeliveryOutcome.Permanent.class);
                assertThat(r.outcome().stage()).isEqualTo(SmtpStage.MAIL);
                assertThat(r.outcome().reply().code()).isEqualTo(553);
            });
            assertThat(client.isOpen()).isTrue();
        }
        assertThat(primary.transactions()).isEmpty();
    }

    @Test
    void severalMessagesOnOneConnection() {
        try (RelayClient client = open()) {
            for (int i = 0; i < 3; i++) {
                assertDelivered(send(client, message("m" + i + "@primary.example")).get(0));
            }
        }
        assertThat(primary.connections()).isEqualTo(1);
        assertThat(primary.transactions()).extracting(t -> t.rcptTo().get(0))
                .containsExactly("TO:<m0@primary.example>", "TO:<m1@primary.example>", "TO:<m2@primary.example>");
        assertThat(primary.verbs()).doesNotContain("RSET");
    }

    @Test
    void dataRefusedAtTheDotFailsTheAcceptedRecipients() {
        primary.answer((verb, arg) -> verb.equals("DOT") ? "554 5.6.0 content rejected" : null);
        try (RelayClient client = open()) {
            assertThat(send(client, message("a@primary.example", "b@primary.example"))).allSatisfy(r -> {
                assertThat(r.outcome()).isInstanceOf(DeliveryOutcome.Permanent.class);
                assertThat(r.outcome().stage()).isEqualTo(SmtpStage.DOT);
            });
        }
    }

    @Test
    void droppedMidDataIsTransientForAll() {
        primary.dropDuringData(true);
        byte[] big = new byte[2_000_000];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (i % 100 == 98 ? '\r' : i % 100 == 99 ? '\n' : 'y');
        }
        try (RelayClient client = open()) {
            List<Relayed> out = send(client, message("s@origin.example", big, "a@primary.example",
                    "b@primary.example"));
            assertThat(out).allSatisfy(r -> {
                assertThat(r.outcome()).isInstanceOf(DeliveryOutcome.Transient.class);
                assertThat(r.outcome().reply()).isNull();
                assertThat(r.outcome().stage()).isIn(SmtpStage.DATA, SmtpStage.DOT);
                assertThat(r.detail()).isNotBlank();
            });
            assertThat(client.isOpen()).isFalse();
            assertThat(send(client, message("c@primary.example")).get(0).outcome())
                    .isInstanceOf(DeliveryOutcome.Transient.class);
        }
        assertThat(primary.transactions()).isEmpty();
    }

    @Test
    void aServerThatStopsReadingMidDataTimesTheWriteOut() {
        primary.stopReadingDuringData(true);
        byte[] big = new byte[9_500_000]; // more than the socket buffers hold (and below the primary's SIZE)
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (i % 100 == 98 ? '\r' : i % 100 == 99 ? '\n' : 'z');
        }
        RelaySettings dataBlock = new RelaySettings("backup.example", new SmtpTimeouts(Duration.ofSeconds(5),
                Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(5),
                Duration.ofSeconds(5), Duration.ofMillis(500), Duration.ofSeconds(5)), TlsPolicy.OPPORTUNISTIC);
        try (RelayClient client = open(dataBlock)) {
            Relayed r = send(client, message("s@origin.example", big, "a@primary.example")).get(0);
            assertThat(r.outcome()).isInstanceOf(DeliveryOutcome.Transient.class);
            assertThat(r.outcome().stage()).isEqualTo(SmtpStage.DATA);
            assertThat(r.detail()).isEqualTo("write timed out");
            assertThat(client.isOpen()).isFalse();
        }
        assertThat(primary.transactions()).isEmpty();
    }

    @Test
    void stalledAtTheDotIsTransientAfterTheTimeout() {
        primary.stallAt(SmtpStage.DOT);
        try (RelayClient client = open(SHORT)) {
            Relayed r = send(client, message("a@primary.example")).get(0);
            assertThat(r.outcome()).usingRecursiveComparison().ignoringFields("detail").isEqualTo(new DeliveryOutcome.Transient(null, HOST, SmtpStage.DOT));
            assertThat(r.detail()).isEqualTo("read timed out");
        }
    }

    @Test
    void stalledGreetingIsTransient() {
        primary.stallAt(SmtpStage.GREETING);
        try (RelayClient client = open(SHORT)) {
            assertThat(client.isOpen()).isFalse();
            assertThat(failure(client).orElseThrow()).usingRecursiveComparison().ignoringFields("detail").isEqualTo(new DeliveryOutcome.Transient(null, HOST, SmtpStage.GREETING));
            assertThat(send(client, message("a@primary.example")).get(0).detail()).isEqualTo("read timed out");
        }
    }

    @Test
    void primaryNotListeningIsTransientAndItCanComeBack() throws IOException {
        primary.stop();
        try (RelayClient client = open()) {
            Relayed r = send(client, message("a@primary.example")).get(0);
            assertThat(r.outcome()).usingRecursiveComparison().ignoringFields("detail").isEqualTo(new DeliveryOutcome.Transient(null, HOST, SmtpStage.CONNECT));
            assertThat(r.detail()).isEqualTo("connection refused");
        }
        primary.restart();
        try (RelayClient client = open()) {
            assertDelivered(send(client, message("a@primary.example")).get(0));
        }
    }

    @Test
    void greeting421IsTransient() {
        primary.greeting("421 4.3.2 too busy, try later");
        try (RelayClient client = open()) {
            assertThat(failure(client)).contains(new DeliveryOutcome.Transient(
                    SmtpReply.of(421, "4.3.2", "too busy, try later"), HOST, SmtpStage.GREETING));
        }
        assertThat(primary.commands()).isEmpty();
    }

    @Test
    void reply421AtRcptEndsTheConnection() {
        primary.capabilities().answer((verb, arg) -> arg.contains("second") ? "421 4.4.2 shutting down" : null);
        try (RelayClient client = open()) {
            List<Relayed> out = send(client, message("first@primary.example", "second@primary.example"));
            SmtpReply shutdown = SmtpReply.of(421, "4.4.2", "shutting down");
            assertThat(out).extracting(Relayed::outcome).containsOnly(
                    new DeliveryOutcome.Transient(shutdown, HOST, SmtpStage.RCPT));
            assertThat(client.isOpen()).isFalse();
        }
        assertThat(primary.verbs()).containsExactly("EHLO", "MAIL", "RCPT", "RCPT");
    }

    @Test
    void requiredTlsNotOfferedIsTransient() {
        primary.capabilities("PIPELINING");
        RelaySettings required = new RelaySettings("backup.example", SETTINGS.timeouts(), TlsPolicy.REQUIRED);
        try (RelayClient client = open(required)) {
            assertThat(failure(client).orElseThrow()).usingRecursiveComparison().ignoringFields("detail").isEqualTo(new DeliveryOutcome.Transient(null, HOST, SmtpStage.STARTTLS));
        }
        assertThat(primary.verbs()).containsExactly("EHLO", "QUIT");
    }

    @Test
    void refusedStartTlsGoesOnInPlainTextWhenOpportunistic() {
        primary.capabilities("STARTTLS");
        try (RelayClient client = open()) {
            assertThat(client.isTls()).isFalse();
            assertDelivered(send(client, message("a@primary.example")).get(0));
        }
        assertThat(primary.verbs()).startsWith("EHLO", "STARTTLS", "MAIL");
    }

    @Test
    void errorReadingTheStoredBodyEndsTheConnectionWithoutTheDot() {
        byte[] body = simpleBody();
        RelayMessage broken = new RelayMessage("s@origin.example", null, null, body.length,
                List.of(EnvelopeRecipient.of("a@primary.example")), () -> new InputStream() {
                    @Override
                    public int read() throws IOException {
                        throw new IOException("disk on fire");
                    }
                });
        try (RelayClient client = open()) {
            Relayed r = send(client, broken).get(0);
            // our failure, not the server's: a local one, tried again soon (FailurePolicy.bodyUnreadable)
            assertThat(r.outcome()).usingRecursiveComparison().ignoringFields("detail")
                    .isEqualTo(new DeliveryOutcome.Transient(null, HOST, SmtpStage.QUEUE));
            assertThat(r.detail()).contains("the stored message could not be read").contains("disk on fire");
        }
        assertThat(primary.transactions()).isEmpty();
    }
}
