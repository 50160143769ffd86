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
    /** Error replies sent in this session. */
    int errors;
    /** The next error reply does not count towards {@code smtp.max-errors} (a RCPT within the overshoot limit). */
    boolean nextErrorUncounted;
    /** The connection is being closed; further input is ignored. */
    boolean closing;
    /** The server is shutting down: the session ends with 421 as soon as no DATA is under way. */
    boolean shutdown;

    static ConnectionState of(Channel channel) {
        return channel.attr(KEY).get();
    }

    /** Whether input beyond the current line has arrived (the client did not wait for our reply). */
    boolean inputPending() {
        return moreInputBuffered || unconsumedBytes.get() > 0;
    }
}
