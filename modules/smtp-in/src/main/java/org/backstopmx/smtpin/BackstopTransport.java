package org.backstopmx.smtpin;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import java.net.InetSocketAddress;
import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.netty.Encryption;
import org.apache.james.protocols.netty.HandlerConstants;
import org.apache.james.protocols.netty.NettyProtocolTransport;
import org.backstopmx.core.Metrics;

/**
 * Writes replies for one connection. Two things James's transport does not:
 * <ul>
 *   <li>STARTTLS from a worker thread (JAMES-4101, fixed upstream only in 3.9.0): the 220 is written and the
 *       {@code SslHandler} inserted in one task on the channel's I/O loop, so no byte can be read or written between
 *       the two; the framer is told to discard any plaintext pipelined after STARTTLS.</li>
 *   <li>Error counting: every reply passes here, so this is where 4xx/5xx replies are counted and a session over
 *       {@code smtp.max-errors} is ended with {@code 421 4.7.0} (Postfix's {@code smtpd_hard_error_limit}), and
 *       where every refusal is counted for {@link SmtpMetrics} by its reply code.</li>
 * </ul>
 */
final class BackstopTransport extends NettyProtocolTransport {
    private final Channel channel;
    private final Encryption encryption;
    private final int maxErrors;
    private final String hostname;
    private final SmtpMetrics metrics;

    BackstopTransport(Channel channel, Encryption encryption, int maxErrors, String hostname, SmtpMetrics metrics) {
        super(channel, encryption, false);
        this.channel = channel;
        this.encryption = encryption;
        this.maxErrors = maxErrors;
        this.hostname = hostname;
        this.metrics = metrics;
    }

    Channel channel() {
        return channel;
    }

    @Override
    protected void writeToClient(byte[] bytes, ProtocolSession session, boolean startTLS) {
        ConnectionState state = ConnectionState.of(channel);
        if (startTLS) {
            state.tlsPending = true;
            channel.eventLoop().execute(() -> {
                channel.writeAndFlush(Unpooled.wrappedBuffer(bytes));
                channel.pipeline().addFirst(HandlerConstants.SSL_HANDLER, encryption.sslHandler());
            });
            return;
        }
        if (state.closing) {
            return;
        }
        if (endsSession(bytes) || isQuitReply(bytes)) {
            // uncounted before the client can read it and connect again
            ConnectionLimiter.release(channel);
        }
        boolean error = bytes.length > 0 && (bytes[0] == '4' || bytes[0] == '5');
        if (error) {
            // counted before the client can read the reply
            metrics.refused(bytes);
        }
        channel.writeAndFlush(Unpooled.wrappedBuffer(bytes));
        if (error && state.nextErrorUncounted) {
            error = false;
        }
        state.nextErrorUncounted = false;
        if (error) {
            state.errors++;
            if (maxErrors > 0 && state.errors >= maxErrors && !endsSession(bytes)) {
                state.closing = true;
                metrics.reject(Metrics.RejectReason.TOO_MANY_ERRORS);
                Goodbye.say(channel, Replies.TOO_MANY_ERRORS, hostname);
            }
        }
    }

    private static boolean isQuitReply(byte[] bytes) {
        return bytes.length >= 3 && bytes[0] == '2' && bytes[1] == '2' && bytes[2] == '1';
    }

    /** 421, or 521 (RFC 7504; our reply to a malformed BDAT): the server closes the session after it. */
    private static boolean endsSession(byte[] bytes) {
        return bytes.length >= 3 && (bytes[0] == '4' || bytes[0] == '5') && bytes[1] == '2' && bytes[2] == '1';
    }

    @Override
    protected void close() {
        ConnectionState.of(channel).closing = true;
        super.close();
    }

    /** The client: the one a trusted PROXY header named, else the peer; James's session and our hooks ask here. */
    @Override
    public InetSocketAddress getRemoteAddress() {
        return ClientAddress.of(channel);
    }

    @Override
    public boolean isTLSStarted() {
        return channel.pipeline().get(HandlerConstants.SSL_HANDLER) != null;
    }
}
