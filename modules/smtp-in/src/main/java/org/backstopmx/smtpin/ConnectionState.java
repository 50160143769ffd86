package org.backstopmx.smtpin;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Per-connection state shared by the handlers of one channel across threads: the I/O loop counts bytes read, the
 * framer and the protocol handler (on the worker thread pinned to this channel) consume them.
 */
final class ConnectionState {
    static final AttributeKey<ConnectionState> KEY = AttributeKey.valueOf("backstop.connection");

    /** Inbound bytes read by the I/O loop that the framer has not consumed yet (flow control, pipelining check). */
    final AtomicLong unconsumedBytes = new AtomicLong();

    // the fields below are only touched on the channel's worker thread
    /** The framer holds further complete or partial input after the line being processed. */
    boolean moreInputBuffered;
    /** A 220 for STARTTLS went out; plaintext input is discarded until the TLS handshake completes. */
    boolean tlsPending;
    /** A DATA transaction is receiving lines. */
    DataTransaction data;
    /** A BDAT transaction has begun and not ended (LAST, RSET, EHLO, the connection's end). */
    ChunkedTransaction chunks;
    /** The BDAT chunk whose octets are being read as they are, not as lines; null between chunks. */
    ChunkedTransaction.Chunk chunk;
    /** Error replies sent in this session. */
    int errors;
    /** The next error reply does not count towards {@code smtp.max-errors} (a RCPT within the overshoot limit). */
    boolean nextErrorUncounted;
    /** The connection is being closed; further input is ignored. */
    boolean closing;
    /**
     * What client screening answers this client's commands with (other than QUIT, RSET, NOOP), or null when it may
     * go on; set on the I/O loop before the first command is passed on ({@link ScreenHandler}).
     */
    volatile org.backstopmx.core.SmtpReply screenRefusal;
    /** A {@code screen.dnswl} list named the client (set with {@link #screenRefusal}): it is not greylisted. */
    volatile boolean allowListed;
    /** The server is shutting down: the session ends with 421 as soon as no DATA is under way. */
    boolean shutdown;

    static ConnectionState of(Channel channel) {
        return channel.attr(KEY).get();
    }

    /** Whether a message is being received, by DATA or by BDAT. */
    boolean receiving() {
        return data != null || chunks != null;
    }

    /**
     * Discards the message being received, if any (the client is gone, or the session is cut).
     *
     * @return its queue id for the log, or null when none was being received or its file never opened
     */
    String abandonMessage() {
        MessageSpool spool = data != null ? data.spool() : chunks != null ? chunks.spool() : null;
        if (data != null) {
            data.spool().abandon();
        } else if (chunks != null) {
            chunks.abandon();
        }
        data = null;
        chunks = null;
        chunk = null;
        return spool == null ? null : spool.message().id().value();
    }

    /** Whether input beyond the current line has arrived (the client did not wait for our reply). */
    boolean inputPending() {
        return moreInputBuffered || unconsumedBytes.get() > 0;
    }
}
