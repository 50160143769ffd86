package org.backstopmx.forwarder.dsn;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.backstopmx.core.DsnRet;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.QueueId;
import org.backstopmx.forwarder.smtp.BodySource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes delivery status notifications: an RFC 5322 message whose body is a {@code multipart/report} (RFC 6522) of
 * type {@code delivery-status} (RFC 3464) with three parts, laid out like Postfix's bounces because that is what mail
 * admins know how to read:
 * <ol>
 *   <li>{@code text/plain}: what happened, for people;</li>
 *   <li>{@code message/delivery-status}: the same for programs, one field group per recipient;</li>
 *   <li>the original: {@code message/rfc822} when the sender asked for it ({@code RET=FULL}, or no {@code RET}) and it
 *       is no larger than the return limit, else {@code text/rfc822-headers} with its header section only. A report
 *       with only delayed recipients always returns headers only: the message is still on its way.</li>
 * </ol>
 *
 * <p>The original is streamed from its {@link BodySource}, never held in memory: the composer opens it once to read
 * the header section (the {@code Message-ID} for {@code In-Reply-To}, whether it has 8-bit octets) and once more to
 * copy it. A headers-only report reads no further than the blank line after the headers, however large the message.
 *
 * <p>Over 400 lines on purpose: it is one report written top to bottom (headers, the three parts in order); the
 * wording, header parsing and line handling are already apart in {@link DsnText}, {@link HeaderSection} and
 * {@link Lines}.
 *
 * <p>Which recipients get a report is the caller's decision ({@link #wants}); the composer writes what it is given.
 * It sends no report to the null sender: that is a bounce loop (RFC 5321 §4.5.5, RFC 3464 §2).
 *
 * <p>Every line it generates ends with CRLF and has at most 998 octets; the original is copied as stored (CRLF, with
 * our {@code Received:} first). The report part is 7-bit: an address beyond US-ASCII appears there as
 * {@code utf-8; <utf-8-addr-xtext>} (RFC 6533 §3), while the human-readable part switches to UTF-8 and 8bit. The
 * {@code To:} header carries such an address raw (RFC 6532), as the sender used SMTPUTF8 to send it. A returned
 * {@code message/rfc822} is always labelled 8bit (RFC 2046 §5.2.1 allows only 7bit, 8bit or binary) rather than
 * reading the whole original twice to find out; returned headers are labelled 8bit only when they have 8-bit octets.
 * An original with NULs or lines longer than 998 octets would strictly be binary; it is returned as stored.
 *
 * <p>Over 300 lines on purpose: it is one report laid out top to bottom (headers, the three parts, the MIME
 * boundaries between them), and the small pieces it is made of already live beside it ({@code DsnText},
 * {@code HeaderSection}, {@code Lines}); splitting the layout further would scatter one document over several files.
 */
public final class DsnComposer {
    private static final Logger LOG = LoggerFactory.getLogger(DsnComposer.class);

    /** RFC 5322 §3.3 date-time, numeric zone (never the obsolete {@code GMT}). */
    private static final DateTimeFormatter DATE =
            DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss xx", Locale.ENGLISH);
    private static final byte[] CRLF = {'\r', '\n'};
    private static final int READ_BUFFER = 8 * 1024;
    private static final int WRITE_BUFFER = 64 * 1024;
    private static final SecureRandom RANDOM = new SecureRandom();

    static final String SUBJECT_FAILED = "Undelivered Mail Returned to Sender";
    static final String SUBJECT_DELAYED = "Delayed Mail (still being retried)";

    private final String reportingMta;
    private final long returnSizeLimit;
    private final Clock clock;

    /**
     * @param reportingMta    our host name: {@code Reporting-MTA}, the {@code MAILER-DAEMON@} domain and the
     *                        {@code Message-ID} domain
     * @param returnSizeLimit the largest original, in bytes as stored, returned whole; a larger one gets headers only
     * @param clock           for the {@code Date:} header
     */
    public DsnComposer(String reportingMta, long returnSizeLimit, Clock clock) {
        this.reportingMta = Objects.requireNonNull(reportingMta, "reportingMta");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (reportingMta.isEmpty() || !DsnText.isPrintableAscii(reportingMta, false)) {
            throw new IllegalArgumentException("not a host name: " + reportingMta);
        }
        if (returnSizeLimit < 0) {
            throw new IllegalArgumentException("negative return size limit: " + returnSizeLimit);
        }
        this.returnSizeLimit = returnSizeLimit;
    }

    /**
     * Whether a recipient with this {@code NOTIFY} value (RFC 3461 §4.1) wants a report of {@code action}: null (or
     * blank) is the default, failures and delays; {@code NEVER} wants none; otherwise a comma list of
     * {@code SUCCESS}, {@code FAILURE} and {@code DELAY}, in any case, spaces around items ignored.
     */
    public static boolean wants(String dsnNotify, DsnAction action) {
        Objects.requireNonNull(action, "action");
        if (dsnNotify == null || dsnNotify.isBlank()) {
            return true;
        }
        boolean wanted = false;
        for (String item : dsnNotify.split(",")) {
            String keyword = item.strip().toUpperCase(Locale.ROOT);
            if (keyword.equals("NEVER")) {
                return false;
            }
            wanted |= keyword.equals(action.notifyKeyword());
        }
        return wanted;
    }

    /**
     * Writes a complete RFC 5322 message (headers and {@code multipart/report}) reporting on {@code recipients} of
     * {@code original} to its sender. CRLF line endings, every generated line at most 998 octets, ending with CRLF.
     * Flushes {@code out} but does not close it.
     *
     * @param original     the envelope of the message reported on; not from the null sender
     * @param recipients   at least one; the subject is the failure one when any has failed
     * @param dsnId        the queue id of the report, for its {@code Message-ID} and MIME boundary
     * @param originalBody the original as stored, opened at most twice
     * @param out          where the report goes
     * @throws IOException reading the original or writing failed; {@code out} then holds part of a report
     */
    public void write(Envelope original, List<DsnRecipient> recipients, QueueId dsnId, BodySource originalBody,
            OutputStream out) throws IOException {
        Objects.requireNonNull(original, "original");
        Objects.requireNonNull(dsnId, "dsnId");
        Objects.requireNonNull(originalBody, "originalBody");
        Objects.requireNonNull(out, "out");
        List<DsnRecipient> rcpts = List.copyOf(recipients);
        if (rcpts.isEmpty()) {
            throw new IllegalArgumentException("a delivery status notification needs at least one recipient");
        }
        if (original.isNullSender()) {
            throw new IllegalArgumentException(original.id() + ": no delivery status notification to the null sender");
        }
        boolean anyFailed = rcpts.stream().anyMatch(r -> r.action() == DsnAction.FAILED);
        Returned returned = returned(original, anyFailed);

        HeaderSection headers;
        try (InputStream in = new BufferedInputStream(originalBody.open(), READ_BUFFER)) {
            headers = HeaderSection.copy(in, OutputStream.nullOutputStream());
        }
        boolean part3EightBit = returned == Returned.FULL || headers.eightBit();
        List<String> human = humanPart(original, rcpts, anyFailed, returned);
        boolean humanUtf8 = human.stream().anyMatch(l -> !DsnText.isAscii(l));
        String boundary = "=_" + dsnId.value() + "." + HexFormat.of().formatHex(randomBytes(12));

        Writer w = new Writer(new BufferedOutputStream(out, WRITE_BUFFER));
        w.header("From", "Mail Delivery System <MAILER-DAEMON@" + reportingMta + ">");
        w.header("To", "<" + DsnText.oneLine(original.sender()) + ">");
        w.header("Subject", anyFailed ? SUBJECT_FAILED : SUBJECT_DELAYED);
        w.header("Date", date(clock.instant()));
        w.header("Message-ID", "<" + dsnId.value() + "@" + reportingMta + ">");
        if (headers.messageId() != null) {
            w.header("In-Reply-To", headers.messageId());
            w.header("References", headers.messageId());
        }
        w.header("Auto-Submitted", "auto-replied");
        w.header("MIME-Version", "1.0");
        w.header("Content-Type", "multipart/report; report-type=delivery-status; boundary=\"" + boundary + "\"");
        if (humanUtf8 || part3EightBit) {
            w.header("Content-Transfer-Encoding", "8bit");
        }
        w.line("");
        w.line("This is a MIME-encapsulated message.");
        w.line("");

        w.line("--" + boundary);
        w.header("Content-Description", "Notification");
        w.header("Content-Type", "text/plain; charset=" + (humanUtf8 ? "utf-8" : "us-ascii"));
        if (humanUtf8) {
            w.header("Content-Transfer-Encoding", "8bit");
        }
        w.line("");
        for (String line : human) {
            w.line(line);
        }
        w.line("");

        w.line("--" + boundary);
        w.header("Content-Description", "Delivery report");
        w.header("Content-Type", "message/delivery-status");
        w.line("");
        deliveryStatus(w, original, rcpts);
        w.line("");

        w.line("--" + boundary);
        if (returned == Returned.FULL) {
            w.header("Content-Description", "Undelivered Message");
            w.header("Content-Type", "message/rfc822");
        } else {
            w.header("Content-Description", anyFailed ? "Undelivered Message Headers" : "Delayed Message Headers");
            w.header("Content-Type", "text/rfc822-headers");
        }
        if (part3EightBit) {
            w.header("Content-Transfer-Encoding", "8bit");
        }
        w.line("");
        try (InputStream in = new BufferedInputStream(originalBody.open(), READ_BUFFER)) {
            if (returned == Returned.FULL) {
                in.transferTo(w.out);
            } else {
                HeaderSection.copy(in, w.out);
            }
        }
        // the CRLF before a boundary belongs to the boundary (RFC 2046 §5.1.1): the returned bytes stay exact
        w.out.write(CRLF);
        w.line("--" + boundary + "--");
        w.out.flush();
        LOG.debug("{}: delivery status notification {} for {} recipient(s), original returned as {}",
                original.id(), dsnId, rcpts.size(), returned);
    }

    /** How much of the original goes back. */
    private enum Returned {
        FULL,
        HEADERS_ASKED,
        HEADERS_TOO_LARGE,
        HEADERS_DELAY
    }

    private Returned returned(Envelope original, boolean anyFailed) {
        if (!anyFailed) {
            return Returned.HEADERS_DELAY;
        }
        if (original.ret() == DsnRet.HDRS) {
            return Returned.HEADERS_ASKED;
        }
        return original.size() <= returnSizeLimit ? Returned.FULL : Returned.HEADERS_TOO_LARGE;
    }

    private List<String> humanPart(Envelope original, List<DsnRecipient> rcpts, boolean anyFailed,
            Returned returned) {
        List<String> lines = new ArrayList<>();
        lines.add("This is the mail system at host " + reportingMta + ".");
        lines.add("");
        if (anyFailed) {
            paragraph(lines, "I'm sorry to have to inform you that your message could not be delivered to one or "
                    + "more recipients. " + switch (returned) {
                        case FULL -> "It's attached below.";
                        case HEADERS_ASKED -> "Its headers are attached below, as you asked (RET=HDRS).";
                        case HEADERS_TOO_LARGE -> "It was too large to return in full (" + original.size()
                                + " bytes, the limit is " + returnSizeLimit
                                + "), so only its headers are attached below.";
                        case HEADERS_DELAY -> throw new IllegalStateException();
                    });
        } else {
            lines.add("####################################################################");
            lines.add("# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #");
            lines.add("####################################################################");
            lines.add("");
            paragraph(lines, "Your message could not be delivered to one or more recipients yet. It is still in "
                    + "the queue and will be retried until the time given below; you will be told if it fails. "
                    + "Its headers are attached below.");
        }
        paragraph(lines, "The message arrived on " + date(original.receivedAt()) + " with queue id "
                + original.id() + ". For further assistance, please send mail to your postmaster and include "
                + "this report.");
        lines.add("                   The mail system");
        lines.add("");
        for (DsnAction action : DsnAction.values()) {
            for (DsnRecipient r : rcpts) {
                if (r.action() == action) {
                    paragraph(lines, humanLine(r));
                }
            }
        }
        lines.remove(lines.size() - 1);
        return lines;
    }

    private String humanLine(DsnRecipient r) {
        StringBuilder sb = new StringBuilder("<").append(DsnText.oneLine(r.address())).append(">: ");
        String reply = r.remoteReply() == null ? null : DsnText.oneLine(r.remoteReply().toString());
        String said = reply == null ? null
                : (r.remoteMta() != null ? "host " + DsnText.oneLine(r.remoteMta()) + " said: " : "the remote server said: ")
                        + reply;
        if (r.diagnostic() != null && !r.diagnostic().isBlank()) {
            String diagnostic = DsnText.oneLine(r.diagnostic());
            sb.append(diagnostic);
            if (said != null && !diagnostic.contains(reply)) {
                sb.append(" (").append(said).append(')');
            }
        } else if (said != null) {
            sb.append(said);
        } else {
            sb.append(r.action() == DsnAction.FAILED ? "delivery failed" : "delivery is delayed")
                    .append(" (status ").append(r.status()).append(')');
        }
        if (r.willRetryUntil() != null) {
            sb.append(". Will retry until ").append(date(r.willRetryUntil())).append('.');
        }
        return sb.toString();
    }

    private static void paragraph(List<String> lines, String text) {
        lines.addAll(Lines.wrap(text, indentFor(text)));
        lines.add("");
    }

    /** Continuation lines of a recipient's paragraph are indented, like Postfix's. */
    private static String indentFor(String text) {
        return text.startsWith("<") ? "    " : "";
    }

    private void deliveryStatus(Writer w, Envelope original, List<DsnRecipient> rcpts) throws IOException {
        w.header("Reporting-MTA", "dns; " + reportingMta);
        w.header("X-Backstop-Queue-ID", original.id().value());
        if (original.envId() != null) {
            // RFC 3464 §2.2.1: decoded from xtext; kept as received when it would not make a field value
            String decoded = DsnText.decodeXtext(original.envId());
            String envId = decoded != null && DsnText.isPrintableAscii(decoded, true) ? decoded : original.envId();
            w.header("Original-Envelope-Id", DsnText.asciiField(envId));
        }
        if (original.clientHelo() != null && !original.clientHelo().isBlank()) {
            w.header("Received-From-MTA", "dns; " + DsnText.asciiField(original.clientHelo()));
        }
        w.header("Arrival-Date", date(original.receivedAt()));
        for (DsnRecipient r : rcpts) {
            w.line("");
            String originalRecipient = originalRecipient(original, r);
            if (originalRecipient != null) {
                w.header("Original-Recipient", originalRecipient);
            }
            w.header("Final-Recipient", DsnText.typedAddress(r.address()));
            w.header("Action", r.action().fieldValue());
            w.header("Status", r.status());
            if (r.remoteMta() != null && !r.remoteMta().isBlank()) {
                w.header("Remote-MTA", "dns; " + DsnText.asciiField(r.remoteMta()));
            }
            if (r.remoteReply() != null) {
                w.header("Diagnostic-Code", "smtp; " + DsnText.asciiField(r.remoteReply().toString()));
            } else if (r.diagnostic() != null && !r.diagnostic().isBlank()) {
                w.header("Diagnostic-Code", "X-Backstop; " + DsnText.asciiField(r.diagnostic()));
            }
            if (r.lastAttemptAt() != null) {
                w.header("Last-Attempt-Date", date(r.lastAttemptAt()));
            }
            if (r.willRetryUntil() != null) {
                w.header("Will-Retry-Until", date(r.willRetryUntil()));
            }
        }
    }

    /**
     * The {@code Original-Recipient} value from the ORCPT (RFC 3461 §4.2, RFC 3464 §2.3.1), or null when there is none
     * or it cannot be made a 7-bit field. An {@code rfc822} ORCPT is xtext-decoded; one that decodes to an
     * internationalized address becomes {@code utf-8}; other types are already 7-bit forms and kept as received.
     */
    private static String originalRecipient(Envelope original, DsnRecipient r) {
        String orcpt = r.orcpt();
        if (orcpt == null) {
            return null;
        }
        int semi = orcpt.indexOf(';');
        String type = semi > 0 ? orcpt.substring(0, semi).strip() : "";
        String value = semi > 0 ? orcpt.substring(semi + 1).strip() : "";
        if (type.isEmpty() || value.isEmpty() || !DsnText.isPrintableAscii(type, false)) {
            LOG.debug("{}: ORCPT of {} is not addr-type;value, left out: {}", original.id(), r.address(), orcpt);
            return null;
        }
        if (type.equalsIgnoreCase("rfc822")) {
            String address = DsnText.decodeXtext(value);
            if (address == null || address.codePoints().anyMatch(cp -> cp < 0x20 || cp == 0x7F)) {
                LOG.debug("{}: ORCPT of {} does not decode to an address, left out: {}", original.id(),
                        r.address(), orcpt);
                return null;
            }
            return DsnText.typedAddress(address);
        }
        if (!DsnText.isPrintableAscii(value, false)) {
            return null;
        }
        return type + "; " + value;
    }

    private String date(Instant instant) {
        return DATE.format(instant.atZone(clock.getZone()));
    }

    private static byte[] randomBytes(int n) {
        byte[] bytes = new byte[n];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    /** Lines in UTF-8 with CRLF, header fields folded. */
    private static final class Writer {
        final OutputStream out;

        Writer(OutputStream out) {
            this.out = out;
        }

        void header(String name, String value) throws IOException {
            for (String line : Lines.foldHeader(name + ": " + value)) {
                line(line);
            }
        }

        void line(String line) throws IOException {
            byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
            if (bytes.length > Lines.HARD_LIMIT) {
                throw new IllegalStateException("generated line longer than " + Lines.HARD_LIMIT + " octets");
            }
            out.write(bytes);
            out.write(CRLF);
        }
    }
}
