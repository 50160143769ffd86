package org.backstopmx.smtpin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.backstopmx.core.Metrics;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.testkit.RecordingMailQueue;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** BDAT (RFC 3030 CHUNKING) transcripts over a real socket: chunk octets are stored exactly as sent. */
class BdatTest {
    private static final Map<String, DomainConfig> DOMAINS = Map.of("example.test", DomainConfig.acceptAll("example.test"));
    /** A bare LF, a line that is a lone dot, a line starting with a dot, DATA's end sequence, a NUL, 8-bit octets. */
    private static final byte[] AWKWARD = ("Subject: chunks\r\n\r\nbare\nlf\r\n.\r\n.leading dot\r\n..two\r\n"
            + "\r\n.\r\nQUIT\r\n\u0000caf\u00e9 \u00ff\r\nno final line ending").getBytes(StandardCharsets.ISO_8859_1);

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
    void chunkingIsAdvertisedAndBinaryMimeIsNot() throws Exception {
        try (SmtpTranscript t = new SmtpTranscript(fx.address())) {
            t.reply();
            List<String> ehlo = Arrays.asList(t.command("EHLO client.test").split("\n"));
            assertThat(ehlo).contains("250-CHUNKING").noneMatch(l -> l.contains("BINARYMIME"));
            assertThat(t.command("MAIL FROM:<a@s.test> BODY=BINARYMIME")).startsWith("501 5.5.4");
        }
    }

    @Test
    void aMessageSentAsOneOctetChunksIsStoredByteForByte() throws Exception {
        try (SmtpTranscript t = fx.client()) {
            envelope(t);
            for (byte b : AWKWARD) {
                t.sendRaw("BDAT 1\r\n").sendBytes(new byte[] {b});
                assertThat(t.reply()).isEqualTo("250 2.0.0 1 octets received");
            }
            assertThat(t.command("BDAT 0 LAST")).matches("250 2\\.0\\.0 Ok: queued as [0-9A-F]{16}");
            assertThat(t.command("NOOP")).startsWith("250");
        }
        RecordingMailQueue.Stored s = fx.queue.stored().get(0);
        assertThat(content(s.body())).isEqualTo(AWKWARD);
        assertThat(new String(s.body(), StandardCharsets.ISO_8859_1))
                .startsWith("Received: from client.test ([127.0.0.1])\r\n\tby mx2.backstop.test (Backstop MX) with ESMTP id "
                        + s.envelope().id() + "\r\n\tfor <bob@example.test>; ");
        assertThat(s.envelope().size()).isEqualTo(s.body().length);
        assertThat(s.envelope().sender()).isEqualTo("alice@sender.test");
        assertThat(fx.registry.get(Metrics.SMTP_BYTES_RECEIVED).counter().count()).isEqualTo(s.body().length);
        assertThat(fx.registry.get(Metrics.SMTP_MESSAGES_RECEIVED).tag("domain", "example.test").counter().count())
                .isEqualTo(1);
    }

    @Test
    void aOneMegabyteChunkWithEveryOctetValueIsStoredExactly() throws Exception {
        ByteArrayOutputStream m = new ByteArrayOutputStream();
        m.writeBytes("Subject: every octet\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        for (int line = 0; m.size() < 1024 * 1024 - 1100; line++) {
            for (int i = 0; i < 1000; i++) {
                int b = (line * 31 + i * 7) & 0xFF;
                m.write(b == '\n' ? 'n' : b);
            }
            m.writeBytes(line % 3 == 0 ? new byte[] {'\n'} : new byte[] {'\r', '\n'});
        }
        while (m.size() < 1024 * 1024) {
            m.write('.');
        }
        byte[] message = m.toByteArray();
        try (SmtpTranscript t = fx.client()) {
            envelope(t);
            t.sendRaw("BDAT " + message.length + " LAST\r\n").sendBytes(message);
            assertThat(t.reply()).startsWith("250 2.0.0 Ok: queued as");
        }
        assertThat(content(fx.queue.stored().get(0).body())).isEqualTo(message);
    }

    @Test
    void pipelinedChunksAndTheCommandsAroundThemKeepInStep() throws Exception {
        try (SmtpTranscript t = fx.client()) {
            // the chunks hold command lines; they must be stored, not run
            t.sendRaw("MAIL FROM:<a@s.test>\r\nRCPT TO:<x@example.test>\r\nBDAT 12\r\nQUIT\r\nRSET\r\nBDAT 6 LAST\r\n"
                    + "DATA\r\nNOOP\r\nMAIL FROM:<b@s.test>\r\nRCPT TO:<y@example.test>\r\nBDAT 3 LAST\r\nend");
            assertThat(t.reply()).startsWith("250 2.1.0");
            assertThat(t.reply()).startsWith("250 2.1.5");
            assertThat(t.reply()).isEqualTo("250 2.0.0 12 octets received");
            assertThat(t.reply()).startsWith("250 2.0.0 Ok: queued as");
            assertThat(t.reply()).startsWith("250 2.0.0"); // NOOP
            assertThat(t.reply()).startsWith("250 2.1.0");
            assertThat(t.reply()).startsWith("250 2.1.5");
            assertThat(t.reply()).startsWith("250 2.0.0 Ok: queued as");
            assertThat(t.command("QUIT")).startsWith("221");
        }
        assertThat(fx.queue.stored()).hasSize(2);
        assertThat(content(fx.queue.stored().get(0).body())).isEqualTo(bytes("QUIT\r\nRSET\r\nDATA\r\n"));
        assertThat(content(fx.queue.stored().get(1).body())).isEqualTo(bytes("end"));
    }

    @Test
    void aMalformedSizeEndsTheSessionWith521() throws Exception {
        for (String bad : List.of("BDAT", "BDAT ten", "BDAT -1", "BDAT +5", "BDAT 1234567890123456789", "BDAT 5 FIRST",
                "BDAT 5 LAST 6", "BDAT 0x10", "BDAT 5LAST")) {
            try (SmtpTranscript t = fx.client()) {
                envelope(t);
                t.sendRaw("BDAT 3\r\nabc");
                assertThat(t.reply()).isEqualTo("250 2.0.0 3 octets received");
                t.sendRaw(bad + "\r\nNOOP\r\n");
                assertThat(t.reply()).as(bad).isEqualTo("521 5.5.4 Syntax: BDAT count [LAST]");
                assertThat(t.closedByServer()).as(bad).isTrue();
            }
        }
        assertThat(fx.queue.stored()).isEmpty();
        await().untilAsserted(() -> assertThat(fx.queue.openCount()).isZero());
        assertThat(fx.registry.get(Metrics.SMTP_REJECTIONS).tag("reason", "syntax").counter().count()).isEqualTo(9);
    }

    @Test
    void withoutLastQuitAndRsetStoreNothing() throws Exception {
        try (SmtpTranscript t = fx.client()) {
            envelope(t);
            t.sendRaw("BDAT 5\r\nhello");
            assertThat(t.reply()).isEqualTo("250 2.0.0 5 octets received");
            assertThat(t.command("RSET")).startsWith("250");
            assertThat(fx.queue.abortedCount()).isEqualTo(1);
            // RSET ended the transaction: a new one starts afresh
            envelope(t);
            t.sendRaw("BDAT 4\r\nnext");
            assertThat(t.reply()).isEqualTo("250 2.0.0 4 octets received");
            assertThat(t.command("QUIT")).startsWith("221");
        }
        await().untilAsserted(() -> assertThat(fx.queue.abortedCount()).isEqualTo(2));
        assertThat(fx.queue.stored()).isEmpty();
        assertThat(fx.queue.openCount()).isZero();
    }

    @Test
    void emptyChunks() throws Exception {
        try (SmtpTranscript t = fx.client()) {
            envelope(t);
            assertThat(t.command("BDAT 0 LAST")).startsWith("250 2.0.0 Ok: queued as");
            envelope(t);
            assertThat(t.command("BDAT 0")).isEqualTo("250 2.0.0 0 octets received");
            t.sendRaw("BDAT 2 last\r\nhi");
            assertThat(t.reply()).startsWith("250 2.0.0 Ok: queued as");
        }
        assertThat(fx.queue.stored()).hasSize(2);
        assertThat(content(fx.queue.stored().get(0).body())).isEmpty();
        assertThat(content(fx.queue.stored().get(1).body())).isEqualTo(bytes("hi"));
    }

    @Test
    void withoutMailOrRecipientTheChunkIsStillReadAndRefused() throws Exception {
        try (SmtpTranscript t = fx.client()) {
            t.sendRaw("BDAT 6\r\nQUIT\r\n");
            assertThat(t.reply()).isEqualTo("503 5.5.1 Need MAIL before BDAT");
            assertThat(t.command("NOOP")).startsWith("250");
            assertThat(t.command("MAIL FROM:<a@s.test>")).startsWith("250");
            assertThat(t.command("RCPT TO:<x@other.test>")).startsWith("550 5.7.1");
            t.sendRaw("BDAT 6 LAST\r\nQUIT\r\n");
            assertThat(t.reply()).isEqualTo("554 5.5.1 No valid recipients");
            assertThat(t.command("NOOP")).startsWith("250");
        }
        assertThat(fx.queue.stored()).isEmpty();
        assertThat(fx.queue.openCount()).isZero();
    }

    @Test
    void dataAndRcptAfterBdatAreRefusedAndTheMessageGoesOn() throws Exception {
        try (SmtpTranscript t = fx.client()) {
            envelope(t);
            t.sendRaw("BDAT 4\r\nabcd");
            assertThat(t.reply()).isEqualTo("250 2.0.0 4 octets received");
            assertThat(t.command("DATA")).startsWith("503 5.5.1 DATA after BDAT");
            assertThat(t.command("RCPT TO:<y@example.test>")).startsWith("503 5.5.1 RCPT after BDAT");
            t.sendRaw("BDAT 2 LAST\r\nef");
            assertThat(t.reply()).startsWith("250 2.0.0 Ok: queued as");
            // DATA ends its transaction: a BDAT after it starts nothing
            SmtpSessionTest.sendSimple(t);
            assertThat(t.reply()).startsWith("250 2.0.0 Ok: queued as");
            t.sendRaw("BDAT 1 LAST\r\nx");
            assertThat(t.reply()).isEqualTo("503 5.5.1 Need MAIL before BDAT");
        }
        assertThat(fx.queue.stored()).hasSize(2);
        assertThat(content(fx.queue.stored().get(0).body())).isEqualTo(bytes("abcdef"));
        assertThat(fx.queue.stored().get(0).envelope().recipients()).hasSize(1);
    }

    @Test
    void clientGoneBetweenChunksOrMidChunkLeavesNothing() throws Exception {
        try (SmtpTranscript t = fx.client()) {
            envelope(t);
            t.sendRaw("BDAT 3\r\nabc");
            assertThat(t.reply()).startsWith("250 2.0.0 3");
        }
        try (SmtpTranscript t = fx.client()) {
            envelope(t);
            t.sendRaw("BDAT 300 LAST\r\nonly part of it");
            // closed only once the server is inside the chunk (input that arrives with the close is not read)
            await().untilAsserted(() -> assertThat(fx.queue.openCount()).isEqualTo(1));
        }
        await().untilAsserted(() -> assertThat(fx.queue.abortedCount()).isEqualTo(2));
        assertThat(fx.queue.stored()).isEmpty();
        assertThat(fx.queue.openCount()).isZero();
    }

    @Test
    void aMessageOverTheSizeLimitIsRefusedAndTheSessionStaysInStep() throws Exception {
        fx.close();
        // 10 000 octets at most, 3 errors end a session
        fx = new ServerFixture(ServerFixture.config(10_000, 3, 10, 10, Duration.ofMinutes(5), 600, 2000, 3, 3), DOMAINS);
        byte[] line = bytes("y".repeat(998) + "\r\n");
        try (SmtpTranscript t = fx.client()) {
            envelope(t);
            t.sendRaw("BDAT 6000\r\n").sendBytes(lines(line, 6000));
            assertThat(t.reply()).isEqualTo("250 2.0.0 6000 octets received");
            // this chunk would take the message over the limit: read, discarded, refused; so is the rest
            t.sendRaw("BDAT 6000\r\n").sendBytes(lines(line, 6000));
            assertThat(t.reply()).startsWith("552 5.3.4");
            t.sendRaw("BDAT 10\r\nQUIT\r\nQUIT");
            assertThat(t.reply()).startsWith("552 5.3.4");
            t.sendRaw("BDAT 6 LAST\r\nQUIT\r\n");
            assertThat(t.reply()).startsWith("552 5.3.4");
            // the three refusals of one message counted as one error: the session goes on
            assertThat(t.command("NOOP")).startsWith("250");
            envelope(t);
            t.sendRaw("BDAT 10000 LAST\r\n").sendBytes(lines(line, 10_000));
            assertThat(t.reply()).startsWith("250 2.0.0 Ok: queued as");
        }
        assertThat(fx.queue.stored()).hasSize(1);
        assertThat(fx.queue.abortedCount()).isEqualTo(1);
    }

    @Test
    void loopsAndOverlongLinesAreFoundAcrossChunkBoundaries() throws Exception {
        fx.close();
        // at most 3 Received: headers, lines of at most 1000 octets
        fx = new ServerFixture(ServerFixture.config(100_000, 3, 10, 10, Duration.ofMinutes(5), 600, 1000, 100, 3), DOMAINS);
        String headers = "Received: a\r\nreceived: b\r\nRECEIVED: c\r\nReceived: d\r\n\r\nbody\r\n";
        try (SmtpTranscript t = fx.client()) {
            envelope(t);
            int cut = headers.indexOf("ived: d"); // the fourth header is split over two chunks
            t.sendRaw("BDAT " + cut + "\r\n" + headers.substring(0, cut));
            assertThat(t.reply()).startsWith("250 2.0.0");
            t.sendRaw("BDAT " + (headers.length() - cut) + " LAST\r\n" + headers.substring(cut));
            assertThat(t.reply()).startsWith("554 5.4.6");
            // three Received: headers, then more of them in the body: no loop
            String fine = "Received: a\r\nReceived: b\r\nReceived: c\r\n\r\nReceived: in the body\r\n";
            envelope(t);
            t.sendRaw("BDAT " + fine.length() + " LAST\r\n" + fine);
            assertThat(t.reply()).startsWith("250 2.0.0 Ok: queued as");
            // a line of 1001 octets spread over two chunks; refused at the chunk that completes it
            envelope(t);
            t.sendRaw("BDAT 600\r\n" + "z".repeat(600));
            assertThat(t.reply()).startsWith("250 2.0.0");
            t.sendRaw("BDAT 401\r\n" + "z".repeat(399) + "\r\n");
            assertThat(t.reply()).isEqualTo("554 5.6.0 Message refused: a line is longer than 1000 bytes");
            t.sendRaw("BDAT 2 LAST\r\nok");
            assertThat(t.reply()).startsWith("554 5.6.0");
            assertThat(t.command("NOOP")).startsWith("250");
        }
        assertThat(fx.queue.stored()).hasSize(1);
        assertThat(fx.queue.abortedCount()).isEqualTo(2);
    }

    private static void envelope(SmtpTranscript t) throws Exception {
        assertThat(t.command("MAIL FROM:<alice@sender.test>")).startsWith("250 2.1.0");
        assertThat(t.command("RCPT TO:<bob@example.test>")).startsWith("250 2.1.5");
    }

    /** {@code n} octets of {@code line} repeated. */
    private static byte[] lines(byte[] line, int n) {
        byte[] out = new byte[n];
        for (int i = 0; i < n; i++) {
            out[i] = line[i % line.length];
        }
        return out;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The stored body after our Received: header (its folded lines start with a tab). */
    static byte[] content(byte[] body) {
        for (int i = 0; i + 1 < body.length; i++) {
            if (body[i] == '\r' && body[i + 1] == '\n' && (i + 2 == body.length || body[i + 2] != '\t')) {
                return Arrays.copyOfRange(body, i + 2, body.length);
            }
        }
        throw new AssertionError("no Received: header");
    }
}
