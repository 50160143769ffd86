package org.backstopmx.smtpin;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.backstopmx.core.DsnRet;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.MailExtension;
import org.backstopmx.core.PrimaryCapabilities;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.SmtpReply;

/**
 * One message being received after 354: every line is checked and written straight into the spool file, and at
 * the end of data the verdict is given.
 *
 * <p>Rules (each one makes the whole message fail after the final dot, and nothing is queued):
 * <ul>
 *   <li>the end of data is {@code CRLF . CRLF} exactly: the terminating dot line must follow a line that ended in
 *       CRLF (RFC 5321 §4.1.1.4). A line ending in a bare LF, or a bare CR anywhere, refuses the message
 *       (RFC 5321 §2.3.8; SMTP smuggling, CVE-2023-51764 class);</li>
 *   <li>a line longer than {@code smtp.max-line-length} refuses the message: it would have to be cut or changed;</li>
 *   <li>more than {@code smtp.max-message-size} bytes refuses the message (552 5.3.4); writing stops at the limit;</li>
 *   <li>more {@code Received:} headers than {@code smtp.max-received-headers} is a loop (554 5.4.6);</li>
 *   <li>the capability rule: a message that needs SMTPUTF8 (554 5.6.7) or 8BITMIME (554 5.6.3) while a recipient's
 *       primary is known not to offer it is refused now, rather than accepted and bounced ({@link #extensions}).</li>
 * </ul>
 * Otherwise the queue commits the message (fsync) and only then is 250 returned. Dot-stuffing is undone
 * (RFC 5321 §4.5.2); everything else is stored byte for byte.
 */
final class DataTransaction {
    private static final byte[] RECEIVED = "received:".getBytes(StandardCharsets.US_ASCII);

    /** What the transaction needs from the session, gathered at DATA time. */
    record Context(String sender, List<EnvelopeRecipient> recipients, DsnRet ret, String envId, boolean smtpUtf8,
            String clientAddress, String helo, long maxMessageSize, int maxLineLength, int maxReceivedHeaders,
            PrimaryCapabilities primaries) {
    }

    private final IncomingMessage message;
    private final OutputStream out;
    private final Context ctx;
    private long clientBytes;
    private long storedBytes;
    private boolean inHeaders = true;
    private boolean previousEndedWithCrlf = true;
    private int receivedHeaders;
    private boolean utf8InHeaders;
    private boolean eightBit;
    private boolean bareLineEnding;
    private boolean lineTooLong;
    private boolean tooBig;
    private IOException writeFailure;
    private boolean finished;

    DataTransaction(IncomingMessage message, Context ctx, String receivedHeader) throws IOException {
        this.message = message;
        this.out = message.body();
        this.ctx = ctx;
        byte[] trace = receivedHeader.getBytes(StandardCharsets.UTF_8); // UTF-8 only in a "for" with SMTPUTF8
        out.write(trace);
        storedBytes = trace.length;
    }

    IncomingMessage message() {
        return message;
    }

    List<EnvelopeRecipient> recipients() {
        return ctx.recipients();
    }

    /** Bytes written to the spool file, our {@code Received:} header included: the stored size once committed. */
    long storedBytes() {
        return storedBytes;
    }

    /**
     * Takes one line, its ending included.
     *
     * @return true when this line was the end of data
     */
    boolean onLine(byte[] line) {
        int n = line.length;
        boolean crlf = n >= 2 && line[n - 1] == '\n' && line[n - 2] == '\r';
        if (crlf && n == 3 && line[0] == '.' && previousEndedWithCrlf) {
            return true;
        }
        if (!crlf || hasBareCr(line, n - 2)) {
            bareLineEnding = true;
        }
        previousEndedWithCrlf = crlf;
        int off = line[0] == '.' ? 1 : 0;
        int len = n - off;
        clientBytes += len;
        if (clientBytes > ctx.maxMessageSize()) {
            tooBig = true;
        }
        if (!eightBit && hasEightBit(line, off, n)) {
            eightBit = true;
            utf8InHeaders = inHeaders;
        }
        if (inHeaders) {
            if (len <= 2 && (line[off] == '\r' || line[off] == '\n')) {
                inHeaders = false;
            } else if (startsWithIgnoreCase(line, off, RECEIVED)) {
                receivedHeaders++;
            }
        }
        if (!failed()) {
            try {
                out.write(line, off, len);
                storedBytes += len;
            } catch (IOException e) {
                writeFailure = e;
            }
        }
        return false;
    }

    /** The framer discarded a line over the limit. */
    void onOverlongLine(boolean endedWithCrlf) {
        lineTooLong = true;
        previousEndedWithCrlf = endedWithCrlf;
        inHeaders = false;
    }

    private boolean failed() {
        return bareLineEnding || lineTooLong || tooBig || writeFailure != null;
    }

    /** The end of data arrived: judge, commit when all is well, and say what to answer. */
    SmtpReply finish(Instant now) {
        finished = true;
        SmtpReply refusal = refusal();
        if (refusal != null) {
            message.abort();
            return refusal;
        }
        Envelope envelope = new Envelope(message.id(), now, ctx.clientAddress(), ctx.helo(), ctx.sender(), ctx.envId(),
                ctx.ret(), storedBytes, ctx.recipients(), extensions());
        try {
            message.commit(envelope);
        } catch (QueueException e) {
            message.abort();
            return e.kind() == QueueException.Kind.STORAGE_FULL ? Replies.STORAGE_FULL : Replies.STORAGE_ERROR;
        }
        return Replies.QUEUED.withText(String.format(Replies.QUEUED.text(), message.id()));
    }

    private SmtpReply refusal() {
        if (bareLineEnding) {
            return Replies.BARE_LINE_ENDING;
        }
        if (lineTooLong) {
            return Replies.DATA_LINE_TOO_LONG.withText(String.format(Replies.DATA_LINE_TOO_LONG.text(), ctx.maxLineLength()));
        }
        if (tooBig) {
            return Replies.SIZE_EXCEEDED;
        }
        if (receivedHeaders > ctx.maxReceivedHeaders()) {
            return Replies.LOOP_DETECTED;
        }
        if (writeFailure != null) {
            String m = String.valueOf(writeFailure.getMessage());
            return m.contains("No space left") || m.contains("Disk quota") ? Replies.STORAGE_FULL : Replies.STORAGE_ERROR;
        }
        return capabilityRefusal(extensions());
    }

    /**
     * What the message needs from the servers it goes to: SMTPUTF8 when it was declared and the envelope or the
     * header section has UTF-8 beyond ASCII (an all-ASCII message goes anywhere, as Postfix decides); 8BITMIME when
     * any octet is above 127. A UTF-8 header without SMTPUTF8 declared is 8-bit content like any other.
     */
    private Set<MailExtension> extensions() {
        Set<MailExtension> needs = EnumSet.noneOf(MailExtension.class);
        boolean utf8Envelope = Utf8Address.hasNonAscii(ctx.sender())
                || ctx.recipients().stream().anyMatch(r -> Utf8Address.hasNonAscii(r.address()));
        if (ctx.smtpUtf8() && (utf8Envelope || utf8InHeaders)) {
            needs.add(MailExtension.SMTPUTF8);
        }
        if (eightBit) {
            needs.add(MailExtension.EIGHTBITMIME);
        }
        return needs;
    }

    /** The capability rule: refused now when a recipient's primary is known to lack what the message needs. */
    private SmtpReply capabilityRefusal(Set<MailExtension> needs) {
        for (MailExtension extension : needs) {
            for (EnvelopeRecipient r : ctx.recipients()) {
                if (ctx.primaries().knownToLack(r.domain(), extension)) {
                    SmtpReply reply = extension == MailExtension.SMTPUTF8 ? Replies.MESSAGE_NEEDS_SMTPUTF8
                            : Replies.MESSAGE_NEEDS_8BITMIME;
                    return reply.withText(String.format(reply.text(), r.domain()));
                }
            }
        }
        return null;
    }

    /** The connection went away before the end of data: nothing is kept. */
    void abandon() {
        if (!finished) {
            finished = true;
            message.abort();
        }
    }

    private static boolean hasEightBit(byte[] line, int from, int to) {
        for (int i = from; i < to; i++) {
            if (line[i] < 0) {
                return true;
            }
        }
        return false;
    }

    private static boolean hasBareCr(byte[] line, int end) {
        for (int i = 0; i < end; i++) {
            if (line[i] == '\r') {
                return true;
            }
        }
        return false;
    }

    private static boolean startsWithIgnoreCase(byte[] line, int off, byte[] prefix) {
        if (line.length - off < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            byte b = line[off + i];
            if (b >= 'A' && b <= 'Z') {
                b = (byte) (b + 32);
            }
            if (b != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}
