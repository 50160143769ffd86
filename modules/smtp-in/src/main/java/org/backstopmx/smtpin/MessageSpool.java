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
import org.backstopmx.core.SpfResult;
import org.backstopmx.smtpin.spf.AuthResultsFilter;

/**
 * The content of one message on its way into its spool file, whichever command carries it: DATA hands it the lines
 * it has un-dot-stuffed ({@link DataTransaction}), BDAT the chunk octets as they arrive ({@link ChunkedTransaction}).
 * The octets are written unchanged after our {@code Received:} header (less the {@code Authentication-Results:}
 * fields that claim to be ours, when SPF is checked), and checked as a stream (so a line or a
 * header may span any number of writes):
 * <ul>
 *   <li>more than {@code smtp.max-message-size} octets refuses the message (552 5.3.4); writing stops at the limit;</li>
 *   <li>a line longer than {@code smtp.max-line-length} (ending included) refuses the message (554 5.6.0);</li>
 *   <li>more {@code Received:} headers in the header section than {@code smtp.max-received-headers} is a loop
 *       (554 5.4.6);</li>
 *   <li>the capability rule: a message that needs SMTPUTF8 (554 5.6.7) or 8BITMIME (554 5.6.3) while a recipient's
 *       primary is known not to offer it is refused now, rather than accepted and bounced ({@link #extensions}).</li>
 * </ul>
 * {@link #finish} then commits the message (the queue fsyncs before it returns) or discards it.
 */
final class MessageSpool {
    private static final byte[] RECEIVED = "received:".getBytes(StandardCharsets.US_ASCII);

    /**
     * What the message needs from the session, gathered when its first content command arrived.
     *
     * @param spf            what the SPF check of the sender found, or null when none was made
     * @param ourAuthservId  our hostname, whose {@code Authentication-Results:} fields are dropped from the content
     *                       ({@link AuthResultsFilter}); null to keep the content as it is (SPF off)
     */
    record Context(String sender, List<EnvelopeRecipient> recipients, DsnRet ret, String envId, boolean smtpUtf8,
            String clientAddress, String helo, long maxMessageSize, int maxLineLength, int maxReceivedHeaders,
            PrimaryCapabilities primaries, SpfResult spf, String ourAuthservId) {
    }

    private final IncomingMessage message;
    private final OutputStream out;
    /** Between {@link #out} and the body when forged headers of ours are dropped, else null. */
    private final AuthResultsFilter filter;
    private final long traceBytes;
    private final Context ctx;
    private long clientBytes;
    private long storedBytes;
    // the line being scanned
    private int lineLength;
    private boolean lineStartsWithCr;
    /** Octets of "received:" matched at the start of this line so far, or -1 once it cannot match. */
    private int receivedMatched;
    private boolean inHeaders = true;
    private int receivedHeaders;
    private boolean utf8InHeaders;
    private boolean eightBit;
    private boolean lineTooLong;
    private boolean tooBig;
    private IOException writeFailure;
    private boolean finished;

    MessageSpool(IncomingMessage message, Context ctx, String receivedHeader) throws IOException {
        this.message = message;
        this.ctx = ctx;
        byte[] trace = receivedHeader.getBytes(StandardCharsets.UTF_8); // UTF-8 only in a "for" with SMTPUTF8
        message.body().write(trace);
        traceBytes = trace.length;
        storedBytes = trace.length;
        this.filter = ctx.ourAuthservId() == null ? null : new AuthResultsFilter(message.body(), ctx.ourAuthservId());
        this.out = filter == null ? message.body() : filter;
    }

    IncomingMessage message() {
        return message;
    }

    List<EnvelopeRecipient> recipients() {
        return ctx.recipients();
    }

    int maxLineLength() {
        return ctx.maxLineLength();
    }

    /** Bytes written to the spool file, our {@code Received:} header included: the stored size once committed. */
    long storedBytes() {
        return storedBytes;
    }

    /** Whether {@code more} octets of content still fit within {@code smtp.max-message-size}. */
    boolean admits(long more) {
        return more <= ctx.maxMessageSize() - clientBytes;
    }

    /** Takes the next octets of content, stored exactly as given. */
    void write(byte[] b, int off, int len) {
        scan(b, off, len);
        clientBytes += len;
        if (clientBytes > ctx.maxMessageSize()) {
            tooBig = true;
        }
        if (!failed()) {
            try {
                out.write(b, off, len);
                storedBytes = filter == null ? storedBytes + len : traceBytes + filter.written();
            } catch (IOException e) {
                writeFailure = e;
            }
        }
    }

    private void scan(byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            byte c = b[i];
            lineLength++;
            if (c < 0 && !eightBit) {
                eightBit = true;
                utf8InHeaders = inHeaders;
            }
            if (lineLength > ctx.maxLineLength()) {
                lineTooLong = true;
            }
            if (c == '\n') {
                if (inHeaders && (lineLength == 1 || lineLength == 2 && lineStartsWithCr)) {
                    inHeaders = false; // RFC 5322 §2.1: the empty line ends the header section
                }
                lineLength = 0;
                receivedMatched = 0;
                continue;
            }
            if (lineLength == 1) {
                lineStartsWithCr = c == '\r';
            }
            if (inHeaders && receivedMatched >= 0 && receivedMatched < RECEIVED.length) {
                byte lower = c >= 'A' && c <= 'Z' ? (byte) (c + 32) : c;
                receivedMatched = lower == RECEIVED[receivedMatched] ? receivedMatched + 1 : -1;
                if (receivedMatched == RECEIVED.length) {
                    receivedHeaders++;
                }
            }
        }
    }

    /** The framer discarded a line over the limit; the next octets start a new line, in the body. */
    void onOverlongLine() {
        lineTooLong = true;
        inHeaders = false;
        lineLength = 0;
        receivedMatched = 0;
    }

    /** Refuses the message for its size (a chunk that would take it over the limit); later content is dropped. */
    void refuseTooBig() {
        tooBig = true;
    }

    private boolean failed() {
        return lineTooLong || tooBig || writeFailure != null;
    }

    /** Why the message will be refused, or null while it is acceptable. */
    SmtpReply refusal() {
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
        return null;
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

    /**
     * The capability rule: refused now when a recipient's primary is known to lack what the message needs, or
     * advertised a SIZE it exceeds (the size the primary sees: our {@code Received:} header included).
     */
    private SmtpReply capabilityRefusal(Set<MailExtension> needs) {
        for (EnvelopeRecipient r : ctx.recipients()) {
            long limit = ctx.primaries().sizeLimit(r.domain());
            if (limit > 0 && storedBytes > limit) {
                return Replies.SIZE_EXCEEDS_PRIMARY.withText(String.format(Replies.SIZE_EXCEEDS_PRIMARY.text(), r.domain()));
            }
        }
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

    /**
     * The end of the content arrived: commit when all is well, and say what to answer.
     *
     * @param carrierRefusal what the carrying command found wrong (DATA's bare line endings), or null; it comes first
     */
    SmtpReply finish(Instant now, SmtpReply carrierRefusal) {
        finished = true;
        if (filter != null && writeFailure == null) {
            try {
                filter.finish(); // a field held at the end of a message without a body
                storedBytes = traceBytes + filter.written();
            } catch (IOException e) {
                writeFailure = e;
            }
        }
        SmtpReply refusal = carrierRefusal != null ? carrierRefusal : refusal();
        Set<MailExtension> needs = extensions();
        if (refusal == null) {
            refusal = capabilityRefusal(needs);
        }
        if (refusal != null) {
            message.abort();
            return refusal;
        }
        Envelope envelope = new Envelope(message.id(), now, ctx.clientAddress(), ctx.helo(), ctx.sender(), ctx.envId(),
                ctx.ret(), storedBytes, ctx.recipients(), needs, ctx.spf());
        try {
            message.commit(envelope);
        } catch (QueueException e) {
            message.abort();
            return e.kind() == QueueException.Kind.STORAGE_FULL ? Replies.STORAGE_FULL : Replies.STORAGE_ERROR;
        }
        return Replies.QUEUED.withText(String.format(Replies.QUEUED.text(), message.id()));
    }

    /** The message will not be completed (client gone, RSET, refused chunk): nothing is kept. */
    void abandon() {
        if (!finished) {
            finished = true;
            message.abort();
        }
    }
}
