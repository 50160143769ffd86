package org.backstopmx.forwarder.dsn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import jakarta.mail.BodyPart;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.backstopmx.core.DsnRet;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.forwarder.smtp.BodySource;
import org.junit.jupiter.api.Test;

class DsnComposerTest {
    private static final Instant NOW = Instant.parse("2024-03-05T10:15:30Z");
    private static final Instant ARRIVED = Instant.parse("2024-03-01T08:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    private static final String HOST = "backstop.example.net";
    private static final QueueId ORIGINAL_ID = new QueueId("018E0A1B2C3D0001");
    private static final QueueId DSN_ID = new QueueId("018E0A1B2C3D0002");
    private static final String HEADERS = "Received: from mail.sender.example (mail.sender.example [192.0.2.7])\r\n"
            + "\tby backstop.example.net with ESMTP id 018E0A1B2C3D0001\r\n"
            + "From: Alice <alice@sender.example>\r\n"
            + "To: bob@example.org\r\n"
            + "Subject: quarterly figures\r\n"
            + "Message-ID:\r\n <20240301080000.abc123@sender.example>\r\n";
    private static final byte[] ORIGINAL = (HEADERS + "\r\nHello Bob,\r\n\r\nthe figures.\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    private static final SmtpReply USER_UNKNOWN = SmtpReply.of(550, "5.1.1", "<bob@example.org>: user unknown");

    private final DsnComposer composer = new DsnComposer(HOST, 1024 * 1024, CLOCK);

    @Test
    void failureWithFullReturnHasTheReportStructureAndTheExactOriginal() throws Exception {
        byte[] dsn = compose(composer, envelope(null, ORIGINAL.length, null), List.of(failed("bob@example.org")),
                ORIGINAL);
        MimeMessage message = parse(dsn);

        assertThat(message.getHeader("From", null)).isEqualTo("Mail Delivery System <MAILER-DAEMON@" + HOST + ">");
        assertThat(message.getHeader("To", null)).isEqualTo("<alice@sender.example>");
        assertThat(message.getSubject()).isEqualTo("Undelivered Mail Returned to Sender");
        assertThat(message.getHeader("Date", null)).isEqualTo("Tue, 5 Mar 2024 10:15:30 +0000");
        assertThat(message.getSentDate().toInstant()).isEqualTo(NOW);
        assertThat(message.getMessageID()).isEqualTo("<" + DSN_ID + "@" + HOST + ">");
        assertThat(message.getHeader("Auto-Submitted", null)).isEqualTo("auto-replied");
        assertThat(message.getHeader("In-Reply-To", null)).isEqualTo("<20240301080000.abc123@sender.example>");
        assertThat(message.getHeader("References", null)).isEqualTo("<20240301080000.abc123@sender.example>");
        assertThat(message.getHeader("MIME-Version", null)).isEqualTo("1.0");

        ContentType type = new ContentType(message.getContentType());
        assertThat(type.getBaseType()).isEqualTo("multipart/report");
        assertThat(type.getParameter("report-type")).isEqualTo("delivery-status");
        assertThat(type.getParameter("boundary")).startsWith("=_" + DSN_ID + ".");

        MimeMultipart parts = (MimeMultipart) message.getContent();
        assertThat(parts.getCount()).isEqualTo(3);
        assertThat(baseType(parts.getBodyPart(0))).isEqualTo("text/plain");
        assertThat(new ContentType(parts.getBodyPart(0).getContentType()).getParameter("charset"))
                .isEqualTo("us-ascii");
        assertThat(baseType(parts.getBodyPart(1))).isEqualTo("message/delivery-status");
        assertThat(baseType(parts.getBodyPart(2))).isEqualTo("message/rfc822");
        assertThat(parts.getBodyPart(2).getHeader("Content-Transfer-Encoding")).containsExactly("8bit");
        assertThat(raw(parts.getBodyPart(2))).isEqualTo(ORIGINAL);
        assertThat(((MimeMessage) parts.getBodyPart(2).getContent()).getSubject()).isEqualTo("quarterly figures");

        String human = text(parts.getBodyPart(0));
        assertThat(human).contains("This is the mail system at host " + HOST)
                .contains("It's attached below.")
                .contains("<bob@example.org>: host mx.example.org said: 550 5.1.1 <bob@example.org>: user unknown")
                .contains(ORIGINAL_ID.value());
        assertEveryLineCrlfWithin998(dsn);
    }

    @Test
    void deliveryStatusHasPerMessageAndPerRecipientFields() throws Exception {
        DsnRecipient bob = failed("bob@example.org");
        DsnRecipient carol = new DsnRecipient("carol@example.org", "rfc822;carol@example.org", DsnAction.FAILED,
                "4.4.7", null, null, "delivery time expired: connection refused at CONNECT", NOW.minusSeconds(60),
                null);
        byte[] dsn = compose(composer, envelope(DsnRet.FULL, ORIGINAL.length, "QQ+2B314"), List.of(bob, carol),
                ORIGINAL);

        List<Map<String, String>> groups = deliveryStatus(dsn);
        assertThat(groups).hasSize(3);
        assertThat(groups.get(0)).containsEntry("reporting-mta", "dns; " + HOST)
                .containsEntry("original-envelope-id", "QQ+314")
                .containsEntry("arrival-date", "Fri, 1 Mar 2024 08:00:00 +0000")
                .containsEntry("received-from-mta", "dns; mail.sender.example")
                .containsEntry("x-backstop-queue-id", ORIGINAL_ID.value());
        assertThat(groups.get(1)).containsExactlyEntriesOf(linked(
                "final-recipient", "rfc822; bob@example.org",
                "action", "failed",
                "status", "5.1.1",
                "remote-mta", "dns; mx.example.org",
                "diagnostic-code", "smtp; 550 5.1.1 <bob@example.org>: user unknown",
                "last-attempt-date", "Tue, 5 Mar 2024 10:14:30 +0000"));
        assertThat(groups.get(2)).containsExactlyEntriesOf(linked(
                "original-recipient", "rfc822; carol@example.org",
                "final-recipient", "rfc822; carol@example.org",
                "action", "failed",
                "status", "4.4.7",
                "diagnostic-code", "X-Backstop; delivery time expired: connection refused at CONNECT",
                "last-attempt-date", "Tue, 5 Mar 2024 10:14:30 +0000"));
        assertEveryLineCrlfWithin998(dsn);
    }

    @Test
    void xtextOfEnvidAndOrcptIsDecoded() throws Exception {
        DsnRecipient r = new DsnRecipient("bob+tag@example.org", "rfc822;Bob+2Btag+3Dx@Example.org",
                DsnAction.FAILED, null, USER_UNKNOWN, "mx.example.org", null, null, null);
        byte[] dsn = compose(composer, envelope(null, ORIGINAL.length, "id+2B1+3D2"), List.of(r), ORIGINAL);

        List<Map<String, String>> groups = deliveryStatus(dsn);
        assertThat(groups.get(0)).containsEntry("original-envelope-id", "id+1=2");
        assertThat(groups.get(1)).containsEntry("original-recipient", "rfc822; Bob+tag=x@Example.org")
                .containsEntry("final-recipient", "rfc822; bob+tag@example.org");
    }

    @Test
    void undecodableOrcptIsLeftOutAndBadEnvidKeptAsReceived() throws Exception {
        DsnRecipient r = new DsnRecipient("bob@example.org", "rfc822;bob+0D+0Aevil@example.org",
                DsnAction.FAILED, null, USER_UNKNOWN, null, null, null, null);
        byte[] dsn = compose(composer, envelope(null, ORIGINAL.length, "a+0D+0AX-Injected:+20yes"), List.of(r),
                ORIGINAL);

        List<Map<String, String>> groups = deliveryStatus(dsn);
        assertThat(groups.get(0)).containsEntry("original-envelope-id", "a+0D+0AX-Injected:+20yes")
                .doesNotContainKey("x-injected");
        assertThat(groups.get(1)).doesNotContainKey("original-recipient");
    }

    @Test
    void retHdrsReturnsTheHeaderSectionOnly() throws Exception {
        byte[] dsn = compose(composer, envelope(DsnRet.HDRS, ORIGINAL.length, null),
                List.of(failed("bob@example.org")), ORIGINAL);
        MimeMultipart parts = (MimeMultipart) parse(dsn).getContent();

        assertThat(parts.getCount()).isEqualTo(3);
        assertThat(baseType(parts.getBodyPart(2))).isEqualTo("text/rfc822-headers");
        assertThat(parts.getBodyPart(2).getHeader("Content-Transfer-Encoding")).isNull();
        assertThat(new String(raw(parts.getBodyPart(2)), StandardCharsets.US_ASCII)).isEqualTo(HEADERS);
        assertThat(text(parts.getBodyPart(0))).contains("(RET=HDRS)");
        assertEveryLineCrlfWithin998(dsn);
    }

    @Test
    void anOriginalOverTheLimitReturnsHeadersOnlyAndSaysSo() throws Exception {
        DsnComposer small = new DsnComposer(HOST, ORIGINAL.length - 1, CLOCK);
        byte[] dsn = compose(small, envelope(DsnRet.FULL, ORIGINAL.length, null), List.of(failed("bob@example.org")),
                ORIGINAL);
        MimeMultipart parts = (MimeMultipart) parse(dsn).getContent();

        assertThat(baseType(parts.getBodyPart(2))).isEqualTo("text/rfc822-headers");
        assertThat(new String(raw(parts.getBodyPart(2)), StandardCharsets.US_ASCII)).isEqualTo(HEADERS);
        assertThat(text(parts.getBodyPart(0))).contains("too large to return in full");
    }

    @Test
    void anOriginalAtTheLimitIsReturnedWhole() throws Exception {
        DsnComposer exact = new DsnComposer(HOST, ORIGINAL.length, CLOCK);
        byte[] dsn = compose(exact, envelope(DsnRet.FULL, ORIGINAL.length, null), List.of(failed("bob@example.org")),
                ORIGINAL);
        MimeMultipart parts = (MimeMultipart) parse(dsn).getContent();

        assertThat(baseType(parts.getBodyPart(2))).isEqualTo("message/rfc822");
        assertThat(raw(parts.getBodyPart(2))).isEqualTo(ORIGINAL);
    }

    @Test
    void delayedOnlyReportIsAWarningWithHeadersAndWillRetryUntil() throws Exception {
        Instant until = Instant.parse("2024-03-06T08:00:00Z");
        DsnRecipient r = new DsnRecipient("bob@example.org", null, DsnAction.DELAYED, null,
                SmtpReply.of(451, "4.3.0", "try again later"), "mx.example.org", "still trying: 451 4.3.0 try again later",
                NOW, until);
        byte[] dsn = compose(composer, envelope(DsnRet.FULL, ORIGINAL.length, null), List.of(r), ORIGINAL);
        MimeMessage message = parse(dsn);

        assertThat(message.getSubject()).isEqualTo("Delayed Mail (still being retried)");
        MimeMultipart parts = (MimeMultipart) message.getContent();
        assertThat(parts.getCount()).isEqualTo(3);
        assertThat(baseType(parts.getBodyPart(2))).isEqualTo("text/rfc822-headers");
        assertThat(new String(raw(parts.getBodyPart(2)), StandardCharsets.US_ASCII)).isEqualTo(HEADERS);
        assertThat(deliveryStatus(dsn).get(1)).containsEntry("action", "delayed")
                .containsEntry("status", "4.3.0")
                .containsEntry("will-retry-until", "Wed, 6 Mar 2024 08:00:00 +0000")
                .containsEntry("diagnostic-code", "smtp; 451 4.3.0 try again later");
        assertThat(text(parts.getBodyPart(0))).contains("THIS IS A WARNING ONLY")
                .contains("<bob@example.org>: still trying: 451 4.3.0 try again later.")
                .contains("Wed, 6 Mar 2024 08:00:00 +0000")
                .doesNotContain("host mx.example.org said"); // the diagnostic already quotes the reply
    }

    @Test
    void mixedReportIsAFailureWithFailedRecipientsFirst() throws Exception {
        DsnRecipient later = new DsnRecipient("dave@example.org", null, DsnAction.DELAYED, "4.4.1", null, null,
                "still trying: connection timed out", NOW, NOW.plusSeconds(86400));
        byte[] dsn = compose(composer, envelope(null, ORIGINAL.length, null),
                List.of(later, failed("bob@example.org")), ORIGINAL);
        MimeMessage message = parse(dsn);

        assertThat(message.getSubject()).isEqualTo("Undelivered Mail Returned to Sender");
        MimeMultipart parts = (MimeMultipart) message.getContent();
        assertThat(baseType(parts.getBodyPart(2))).isEqualTo("message/rfc822");
        String human = text(parts.getBodyPart(0));
        assertThat(human.indexOf("<bob@example.org>")).isLessThan(human.indexOf("<dave@example.org>"));
        List<Map<String, String>> groups = deliveryStatus(dsn);
        assertThat(groups).hasSize(3); // in the order given
        assertThat(groups.get(1)).containsEntry("final-recipient", "rfc822; dave@example.org")
                .containsEntry("action", "delayed").containsEntry("status", "4.4.1");
        assertThat(groups.get(2)).containsEntry("action", "failed");
    }

    @Test
    void longAddressesRepliesAndDiagnosticsAreFoldedWithin998Octets() throws Exception {
        String longLocal = "x".repeat(1500);
        String longAddress = longLocal + "@example.org";
        String longText = "rejected because " + "very ".repeat(300) + "long";
        DsnRecipient r = new DsnRecipient(longAddress, "rfc822;" + longAddress, DsnAction.FAILED, null,
                SmtpReply.of(550, "5.7.1", longText), "mx.example.org", "our words " + "also ".repeat(300), null,
                null);
        DsnRecipient s = new DsnRecipient("bob@example.org", null, DsnAction.FAILED, null, null, null,
                "no route: " + "far ".repeat(400), null, null);
        byte[] dsn = compose(composer, envelope(null, ORIGINAL.length, null, longAddress), List.of(r, s), ORIGINAL);

        assertEveryLineCrlfWithin998(dsn);
        MimeMessage message = parse(dsn);
        assertThat(((MimeMultipart) message.getContent()).getCount()).isEqualTo(3);
        List<Map<String, String>> groups = deliveryStatus(dsn);
        assertThat(groups.get(1).get("diagnostic-code")).isEqualTo("smtp; 550 5.7.1 " + longText);
        assertThat(groups.get(2).get("diagnostic-code")).isEqualTo("X-Backstop; no route: " + "far ".repeat(399) + "far");
        // a word longer than a line can be is cut with a folding space: still a valid message
        assertThat(groups.get(1).get("final-recipient").replace(" ", "")).isEqualTo("rfc822;" + longAddress);
    }

    @Test
    void internationalizedAddressesAreUtf8InTheTextAndXtextInTheReport() throws Exception {
        DsnRecipient r = new DsnRecipient("jörg+x@bücher.example", "rfc822;j+C3+B6rg@b+C3+BCcher.example",
                DsnAction.FAILED, null, USER_UNKNOWN, null, null, null, null);
        byte[] dsn = compose(composer, envelope(null, ORIGINAL.length, null, "sören@sender.example"), List.of(r),
                ORIGINAL);
        MimeMessage message = parse(dsn);

        MimeMultipart parts = (MimeMultipart) message.getContent();
        BodyPart human = parts.getBodyPart(0);
        assertThat(new ContentType(human.getContentType()).getParameter("charset")).isEqualTo("utf-8");
        assertThat(human.getHeader("Content-Transfer-Encoding")).containsExactly("8bit");
        assertThat((String) human.getContent()).contains("<jörg+x@bücher.example>");
        assertThat(message.getHeader("Content-Transfer-Encoding")).containsExactly("8bit");
        assertThat(new String(raw(parts.getBodyPart(1)), StandardCharsets.ISO_8859_1)).matches("[\\x00-\\x7F]*"); // the report part stays 7-bit
        assertThat(deliveryStatus(dsn).get(1))
                .containsEntry("final-recipient", "utf-8; j\\x{F6}rg\\x{2B}x@b\\x{FC}cher.example")
                .containsEntry("original-recipient", "utf-8; j\\x{F6}rg@b\\x{FC}cher.example");
        String to = new String(dsn, StandardCharsets.UTF_8);
        assertThat(to).contains("\r\nTo: <sören@sender.example>\r\n");
    }

    @Test
    void eightBitHeadersAreLabelledWhenReturned() throws Exception {
        byte[] original = ("Subject: caf\u00e9\r\nFrom: a@sender.example\r\n\r\nbody\r\n")
                .getBytes(StandardCharsets.UTF_8);
        byte[] dsn = compose(composer, envelope(DsnRet.HDRS, original.length, null),
                List.of(failed("bob@example.org")), original);
        MimeMessage message = parse(dsn);

        BodyPart returned = ((MimeMultipart) message.getContent()).getBodyPart(2);
        assertThat(returned.getHeader("Content-Transfer-Encoding")).containsExactly("8bit");
        assertThat(message.getHeader("Content-Transfer-Encoding")).containsExactly("8bit");
        assertThat(raw(returned)).isEqualTo("Subject: caf\u00e9\r\nFrom: a@sender.example\r\n"
                .getBytes(StandardCharsets.UTF_8));
        assertThat(message.getHeader("In-Reply-To")).isNull();
    }

    @Test
    void aHugeOriginalOverTheLimitIsReadOnlyAsFarAsItsHeaders() throws Exception {
        long bodySize = 20L * 1024 * 1024;
        byte[] head = HEADERS.concat("\r\n").getBytes(StandardCharsets.US_ASCII);
        AtomicLong read = new AtomicLong();
        AtomicLong opened = new AtomicLong();
        BodySource huge = () -> {
            opened.incrementAndGet();
            return new CountingInputStream(new GeneratedMessage(head, bodySize), read);
        };
        DsnComposer limited = new DsnComposer(HOST, 10L * 1024 * 1024, CLOCK);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        limited.write(envelope(DsnRet.FULL, head.length + bodySize, null), List.of(failed("bob@example.org")),
                DSN_ID, huge, out);

        assertThat(opened.get()).isEqualTo(2);
        assertThat(read.get()).isLessThan(64 * 1024);
        byte[] dsn = out.toByteArray();
        assertThat(dsn.length).isLessThan(16 * 1024);
        MimeMultipart parts = (MimeMultipart) parse(dsn).getContent();
        assertThat(baseType(parts.getBodyPart(2))).isEqualTo("text/rfc822-headers");
        assertThat(new String(raw(parts.getBodyPart(2)), StandardCharsets.US_ASCII)).isEqualTo(HEADERS);
    }

    @Test
    void anOriginalWithoutBodyOrFinalCrlfStillGivesCrlfLines() throws Exception {
        byte[] original = "Subject: x\r\nFrom: a@sender.example".getBytes(StandardCharsets.US_ASCII);
        for (DsnRet ret : DsnRet.values()) {
            byte[] dsn = compose(composer, envelope(ret, original.length, null), List.of(failed("bob@example.org")),
                    original);
            assertEveryLineCrlfWithin998(dsn);
            BodyPart returned = ((MimeMultipart) parse(dsn).getContent()).getBodyPart(2);
            assertThat(raw(returned)).isEqualTo(original);
        }
    }

    @Test
    void boundariesDifferBetweenReportsWithTheSameId() throws Exception {
        Envelope envelope = envelope(null, ORIGINAL.length, null);
        String first = new ContentType(parse(compose(composer, envelope, List.of(failed("bob@example.org")),
                ORIGINAL)).getContentType()).getParameter("boundary");
        String second = new ContentType(parse(compose(composer, envelope, List.of(failed("bob@example.org")),
                ORIGINAL)).getContentType()).getParameter("boundary");
        assertThat(first).isNotEqualTo(second);
        assertThat(first.length()).isLessThanOrEqualTo(70); // RFC 2046 §5.1.1
    }

    @Test
    void refusesTheNullSenderAndAnEmptyRecipientList() {
        Envelope fromNull = new Envelope(ORIGINAL_ID, ARRIVED, "192.0.2.7", "mail.sender.example", "", null, null,
                ORIGINAL.length, List.of(EnvelopeRecipient.of("bob@example.org")));
        assertThatThrownBy(() -> compose(composer, fromNull, List.of(failed("bob@example.org")), ORIGINAL))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> compose(composer, envelope(null, ORIGINAL.length, null), List.of(), ORIGINAL))
                .isInstanceOf(IllegalArgumentException.class);
    }

    // --- building and reading reports

    private static DsnRecipient failed(String address) {
        return new DsnRecipient(address, null, DsnAction.FAILED, null, USER_UNKNOWN, "mx.example.org", null,
                NOW.minusSeconds(60), null);
    }

    private static Envelope envelope(DsnRet ret, long size, String envId) {
        return envelope(ret, size, envId, "alice@sender.example");
    }

    private static Envelope envelope(DsnRet ret, long size, String envId, String sender) {
        return new Envelope(ORIGINAL_ID, ARRIVED, "192.0.2.7", "mail.sender.example", sender, envId, ret, size,
                List.of(EnvelopeRecipient.of("bob@example.org")));
    }

    private static byte[] compose(DsnComposer composer, Envelope envelope, List<DsnRecipient> recipients,
            byte[] original) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        composer.write(envelope, recipients, DSN_ID, () -> new ByteArrayInputStream(original), out);
        return out.toByteArray();
    }

    private static MimeMessage parse(byte[] dsn) throws MessagingException {
        return new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(dsn));
    }

    private static String baseType(BodyPart part) throws MessagingException {
        return new ContentType(part.getContentType()).getBaseType();
    }

    private static byte[] raw(BodyPart part) throws MessagingException, IOException {
        try (InputStream in = ((MimeBodyPart) part).getRawInputStream()) {
            return in.readAllBytes();
        }
    }

    private static String text(BodyPart part) throws MessagingException, IOException {
        return ((String) part.getContent()).replace("\r\n", " ").replaceAll(" {2,}", " ");
    }

    /** Part 2 as field groups: names lower-cased, folded values unfolded, in order. */
    private static List<Map<String, String>> deliveryStatus(byte[] dsn) throws MessagingException, IOException {
        BodyPart part = ((MimeMultipart) parse(dsn).getContent()).getBodyPart(1);
        String text = new String(raw(part), StandardCharsets.US_ASCII);
        assertThat(text).doesNotContain("\n\n").doesNotContain("\r\r");
        List<Map<String, String>> groups = new ArrayList<>();
        for (String group : text.strip().split("\r\n\r\n")) {
            Map<String, String> fields = new LinkedHashMap<>();
            for (String field : group.split("\r\n(?![ \t])")) {
                int colon = field.indexOf(':');
                String name = field.substring(0, colon).toLowerCase(java.util.Locale.ROOT);
                assertThat(fields).as("field %s once per group", name).doesNotContainKey(name);
                fields.put(name, field.substring(colon + 1).replace("\r\n", "").strip());
            }
            groups.add(fields);
        }
        return groups;
    }

    private static Map<String, String> linked(String... pairs) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            map.put(pairs[i], pairs[i + 1]);
        }
        return map;
    }

    private static void assertEveryLineCrlfWithin998(byte[] dsn) {
        assertThat(dsn.length).isGreaterThan(2);
        assertThat(Arrays.copyOfRange(dsn, dsn.length - 2, dsn.length)).isEqualTo(new byte[] {'\r', '\n'});
        int lineStart = 0;
        for (int i = 0; i < dsn.length; i++) {
            if (dsn[i] == '\n') {
                assertThat(i).as("LF at %d preceded by CR", i).isGreaterThan(0);
                assertThat(dsn[i - 1]).as("LF at %d preceded by CR", i).isEqualTo((byte) '\r');
                assertThat(i - 1 - lineStart).as("line at %d", lineStart).isLessThanOrEqualTo(998);
                lineStart = i + 1;
            } else if (dsn[i] == '\r') {
                assertThat(i + 1 < dsn.length && dsn[i + 1] == '\n').as("CR at %d followed by LF", i).isTrue();
            }
        }
    }

    /** Headers, then a body of {@code bodySize} lines of text made up as it is read. */
    private static final class GeneratedMessage extends InputStream {
        private static final byte[] LINE = "0123456789012345678901234567890123456789012345678901234567890123456789\r\n"
                .getBytes(StandardCharsets.US_ASCII);
        private final byte[] head;
        private final long size;
        private long position;

        GeneratedMessage(byte[] head, long bodySize) {
            this.head = head;
            this.size = head.length + bodySize;
        }

        @Override
        public int read() {
            if (position >= size) {
                return -1;
            }
            long p = position++;
            return p < head.length ? head[(int) p] & 0xFF : LINE[(int) ((p - head.length) % LINE.length)] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (position >= size) {
                return -1;
            }
            int n = (int) Math.min(len, size - position);
            for (int i = 0; i < n; i++) {
                b[off + i] = (byte) read();
            }
            return n;
        }
    }

    /** Counts the bytes handed out. */
    private static final class CountingInputStream extends java.io.FilterInputStream {
        private final AtomicLong count;

        CountingInputStream(InputStream in, AtomicLong count) {
            super(in);
            this.count = count;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count.incrementAndGet();
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count.addAndGet(n);
            }
            return n;
        }
    }
}
