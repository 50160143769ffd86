package org.backstopmx.smtpin;

import io.netty.buffer.ByteBuf;
import java.time.Instant;
import org.backstopmx.core.SmtpReply;

/**
 * One message being received as BDAT chunks (RFC 3030), from its first BDAT to BDAT LAST (or RSET, a new EHLO, the
 * connection's end). The octets go unchanged into its {@link MessageSpool}, which checks them as DATA's lines are
 * checked; nothing is dot-stuffed and no end-of-data sequence exists, so line endings are stored as sent.
 *
 * <p>A chunk that would take the message over {@code smtp.max-message-size} is refused before a byte of it is
 * written (552 5.3.4, as Postfix); a content refusal found in a chunk (line too long, a loop) is answered at the end
 * of that chunk rather than at LAST, so the client can stop early. Either way the message is discarded, and the
 * octets of that chunk and of every following chunk up to LAST are still read, so the session stays in step; the
 * following chunks repeat the refusal.
 *
 * <p>XXX: a refused chunk is read to its end however large its declared size, as DATA reads to the final dot after
 * the limit; Postfix stops reading once the discarded total passes 1.5 times its limit. The idle timeout does not
 * end a client that keeps sending.
 */
final class ChunkedTransaction {
    private static final int COPY_SIZE = 16 * 1024;

    /** The chunk whose octets are being read. */
    static final class Chunk {
        final long size;
        final boolean last;
        /** Non-null when the octets go nowhere (no transaction could start): the reply to the chunk. */
        final SmtpReply discard;
        /** Octets still to be read; the framer counts them down. */
        long left;

        Chunk(long size, boolean last, SmtpReply discard) {
            this.size = size;
            this.last = last;
            this.discard = discard;
            this.left = size;
        }
    }

    /** Null when the spool file could not be opened. */
    private final MessageSpool spool;
    private SmtpReply refusal;
    private boolean refusalAnswered;
    private boolean repeated;
    private byte[] copy;

    private ChunkedTransaction(MessageSpool spool, SmtpReply refusal) {
        this.spool = spool;
        this.refusal = refusal;
    }

    ChunkedTransaction(MessageSpool spool) {
        this(spool, null);
    }

    /** A transaction whose message could not be started: its chunks are read, discarded and answered with this. */
    static ChunkedTransaction refused(SmtpReply refusal) {
        return new ChunkedTransaction(null, refusal);
    }

    /** Null when the spool file could not be opened. */
    MessageSpool spool() {
        return spool;
    }

    /** A BDAT command announced the next chunk. */
    Chunk chunk(long size, boolean last) {
        if (refusal == null && !spool.admits(size)) {
            refuse(Replies.SIZE_EXCEEDED);
        }
        return new Chunk(size, last, null);
    }

    /** The next octets of the current chunk. */
    void octets(ByteBuf buf) {
        if (refusal != null) {
            return;
        }
        int n = buf.readableBytes();
        if (buf.hasArray()) {
            spool.write(buf.array(), buf.arrayOffset() + buf.readerIndex(), n);
            return;
        }
        if (copy == null) {
            copy = new byte[COPY_SIZE];
        }
        for (int done = 0; done < n; ) {
            int len = Math.min(copy.length, n - done);
            buf.getBytes(buf.readerIndex() + done, copy, 0, len);
            spool.write(copy, 0, len);
            done += len;
        }
    }

    /**
     * The current chunk's octets are all in: the reply to its BDAT. After LAST, with all well, the message is
     * committed (fsynced) before this returns.
     */
    SmtpReply endChunk(Chunk chunk, Instant now) {
        repeated = refusal != null && refusalAnswered;
        if (refusal == null) {
            if (chunk.last) {
                return spool.finish(now, null);
            }
            SmtpReply found = spool.refusal();
            if (found == null) {
                return Replies.CHUNK_RECEIVED.withText(String.format(Replies.CHUNK_RECEIVED.text(), chunk.size));
            }
            refuse(found);
        }
        refusalAnswered = true;
        return refusal;
    }

    /** Whether the reply {@link #endChunk} just gave repeats a refusal already answered, rather than a new error. */
    boolean repeated() {
        return repeated;
    }

    private void refuse(SmtpReply reply) {
        refusal = reply;
        spool.abandon();
    }

    /** The message will not be completed: nothing is kept. */
    void abandon() {
        if (spool != null) {
            spool.abandon();
        }
    }
}
