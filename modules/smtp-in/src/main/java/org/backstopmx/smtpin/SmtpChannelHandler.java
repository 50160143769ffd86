package org.backstopmx.smtpin;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import org.apache.james.protocols.api.Protocol;
import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.api.ProtocolSessionImpl;
import org.apache.james.protocols.netty.BasicChannelInboundHandler;
import org.apache.james.protocols.netty.Encryption;
import org.apache.james.protocols.netty.ProtocolMDCContextFactory;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.util.MDCBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * James's protocol handler for one connection, run on a worker thread. Adds what James lacks: command lines longer
 * than {@code smtp.max-command-line-length} get 500 5.5.2; over-long DATA lines reach the DATA transaction; BDAT
 * chunk octets reach {@link BdatCommand}; a client that disconnects mid-DATA or before BDAT LAST leaves nothing in the
 * queue; input after a closing reply is ignored; at shutdown, a session whose message was under way ends with 421
 * right after its end of data (or LAST) is answered ({@link ShutdownNotice}); a client refused by screening is
 * answered its refusal at every command but QUIT, RSET and NOOP ({@link ScreenedCommands}).
 */
final class SmtpChannelHandler extends BasicChannelInboundHandler {
    private static final Logger LOG = LoggerFactory.getLogger(SmtpChannelHandler.class);

    /** An MDC without reverse DNS: James's default looks the client's name up on the event loop. */
    static final ProtocolMDCContextFactory QUIET_MDC = new ProtocolMDCContextFactory() {
        @Override
        public MDCBuilder onBound(Protocol protocol, ChannelHandlerContext ctx) {
            return MDCBuilder.create();
        }

        @Override
        public MDCBuilder withContext(ProtocolSession protocolSession) {
            return MDCBuilder.create();
        }
    };

    private final int maxCommandLineLength;
    private final int maxErrors;
    private final String hostname;
    private final SmtpMetrics metrics;
    private final BdatCommand chunkReceiver;

    SmtpChannelHandler(Protocol protocol, Encryption encryption, int maxCommandLineLength, int maxErrors, String hostname,
            SmtpMetrics metrics, BdatCommand chunkReceiver) {
        super(QUIET_MDC, protocol, encryption, false);
        this.maxCommandLineLength = maxCommandLineLength;
        this.maxErrors = maxErrors;
        this.hostname = hostname;
        this.metrics = metrics;
        this.chunkReceiver = chunkReceiver;
    }

    @Override
    protected ProtocolSession createSession(ChannelHandlerContext ctx) {
        return protocol.newSession(new BackstopTransport(ctx.channel(), secure, maxErrors, hostname, metrics));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        ConnectionState state = ConnectionState.of(ctx.channel());
        if (state.closing) {
            io.netty.util.ReferenceCountUtil.release(msg);
            return;
        }
        SMTPSession session = session(ctx);
        if (msg instanceof ChunkOctets) {
            org.apache.james.protocols.api.Response response = chunkReceiver.onOctets(session, (ChunkOctets) msg);
            if (response != null) {
                reply(session, response);
                ShutdownNotice.afterCommand(ctx.channel(), state, hostname);
            }
            return;
        }
        if (msg instanceof OverlongLine) {
            if (state.data != null) {
                DataCommand.overlongLine(session, msg == OverlongLine.ENDED_WITH_CRLF);
            } else if (session != null) {
                reply(session, Replies.response(Replies.COMMAND_LINE_TOO_LONG));
            }
            return;
        }
        if (state.data == null && msg instanceof ByteBuf && ((ByteBuf) msg).readableBytes() > maxCommandLineLength
                && session != null) {
            ((ByteBuf) msg).release();
            reply(session, Replies.response(Replies.COMMAND_LINE_TOO_LONG));
            return;
        }
        if (state.data == null && msg instanceof ByteBuf && session != null && hasControlCharacter((ByteBuf) msg)) {
            // James would quote the HELO name or unknown command back, a bare CR and all, inside its reply
            ((ByteBuf) msg).release();
            reply(session, Replies.response(Replies.CONTROL_CHARACTER));
            return;
        }
        if (state.screenRefusal != null && state.data == null && state.chunk == null && msg instanceof ByteBuf
                && session != null && !ScreenedCommands.allowed((ByteBuf) msg)) {
            ((ByteBuf) msg).release();
            reply(session, Replies.response(state.screenRefusal));
            ShutdownNotice.afterCommand(ctx.channel(), state, hostname);
            return;
        }
        super.channelRead(ctx, msg);
        ShutdownNotice.afterCommand(ctx.channel(), state, hostname);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        ConnectionState state = ConnectionState.of(ctx.channel());
        if (state != null && state.receiving()) {
            String command = state.data != null ? "DATA" : "BDAT";
            String id = state.abandonMessage();
            LOG.info("{}: lost connection after {} from {}, message discarded", id == null ? "NOQUEUE" : id, command,
                    ClientAddress.of(ctx.channel()));
        }
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        ConnectionState state = ConnectionState.of(ctx.channel());
        SMTPSession session = session(ctx);
        if (cause instanceof java.io.IOException) {
            LOG.debug("connection error from {}: {}", ClientAddress.of(ctx.channel()), cause.toString());
        } else {
            LOG.error("unexpected error in session with {}", ClientAddress.of(ctx.channel()), cause);
        }
        if (session != null && ctx.channel().isActive() && !state.closing) {
            reply(session, Replies.closing(Replies.INTERNAL_ERROR));
        } else {
            ctx.close();
        }
    }

    /** Whether a command line holds a control character other than TAB before its line ending. */
    static boolean hasControlCharacter(ByteBuf line) {
        int end = line.writerIndex();
        if (end > line.readerIndex() && line.getByte(end - 1) == '\n') {
            end--;
            if (end > line.readerIndex() && line.getByte(end - 1) == '\r') {
                end--;
            }
        }
        for (int i = line.readerIndex(); i < end; i++) {
            byte b = line.getByte(i);
            if ((b >= 0 && b < 0x20 && b != '\t') || b == 0x7f) {
                return true;
            }
        }
        return false;
    }

    private static SMTPSession session(ChannelHandlerContext ctx) {
        return (SMTPSession) ctx.channel().attr(SESSION_ATTRIBUTE_KEY).get();
    }

    private static void reply(SMTPSession session, org.apache.james.protocols.api.Response response) {
        ((ProtocolSessionImpl) session).getProtocolTransport().writeResponse(response, session);
    }
}
