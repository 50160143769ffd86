package org.backstopmx.smtpin;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ByteProcessor;

/**
 * Splits the inbound stream into lines, each passed on with its line ending (LF or CRLF) so that the DATA receiver
 * can tell a proper CRLF from a bare LF. Runs on the channel's worker thread, not on the I/O loop.
 *
 * <ul>
 *   <li>A line longer than {@code maxLineLength} is not cut and not passed on: its bytes are discarded up to the next
 *       LF and an {@link OverlongLine} (saying whether it ended with CRLF) is passed on instead, so the transaction fails instead of storing a
 *       changed message (James's own framer dropped the line and let the message through).</li>
 *   <li>Before passing a line it records whether more input is already buffered, so DATA can refuse a message
 *       body sent before the 354 reply (RFC 2920 §3.1: DATA must be the last command of a group).</li>
 *   <li>After a {@code BDAT n} command, the next n octets are passed on as {@link ChunkOctets}, unsplit and
 *       unchecked, however many reads they take; the octets after them are lines again (RFC 3030 §2).</li>
 *   <li>After our 220 reply to STARTTLS every plaintext byte still buffered or still arriving is discarded until the
 *       TLS handshake completes (RFC 3207 §5; the CVE-2011-0411 class of command injection).</li>
 * </ul>
 */
final class SmtpLineDecoder extends ChannelInboundHandlerAdapter {
    private final int maxLineLength;
    private ByteBuf buffer;
    private boolean discardingOverlong;
    private byte lastDiscarded;

    SmtpLineDecoder(int maxLineLength) {
        this.maxLineLength = maxLineLength;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ConnectionState state = ConnectionState.of(ctx.channel());
        ByteBuf in = (ByteBuf) msg;
        state.unconsumedBytes.addAndGet(-in.readableBytes());
        if (state.tlsPending || state.closing) {
            in.release();
            InboundFlowControl.maybeResume(ctx.channel(), state);
            return;
        }
        buffer = buffer == null ? in : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), buffer, in);
        try {
            splitLines(ctx, state);
        } finally {
            if (buffer != null && !buffer.isReadable()) {
                buffer.release();
                buffer = null;
            } else if (buffer != null) {
                buffer.discardSomeReadBytes();
            }
            InboundFlowControl.maybeResume(ctx.channel(), state);
        }
    }

    private void splitLines(ChannelHandlerContext ctx, ConnectionState state) {
        while (buffer != null && buffer.isReadable() && ctx.channel().isActive()) {
            ChunkedTransaction.Chunk chunk = state.chunk;
            if (chunk != null) {
                // RFC 3030 §2: the octets after a BDAT command are the chunk, taken exactly as sent
                int n = (int) Math.min(buffer.readableBytes(), chunk.left);
                chunk.left -= n;
                fire(ctx, state, new ChunkOctets(buffer.readSlice(n), chunk.left == 0));
                if (state.closing) {
                    buffer.skipBytes(buffer.readableBytes());
                    return;
                }
                continue;
            }
            int lf = buffer.forEachByte(ByteProcessor.FIND_LF);
            if (discardingOverlong) {
                if (lf < 0) {
                    discardAll();
                    return;
                }
                byte beforeLf = lf > buffer.readerIndex() ? buffer.getByte(lf - 1) : lastDiscarded;
                buffer.readerIndex(lf + 1);
                discardingOverlong = false;
                fire(ctx, state, beforeLf == '\r' ? OverlongLine.ENDED_WITH_CRLF : OverlongLine.ENDED_WITH_BARE_LF);
                continue;
            }
            if (lf < 0) {
                if (buffer.readableBytes() > maxLineLength) {
                    discardAll();
                    discardingOverlong = true;
                }
                return;
            }
            int length = lf + 1 - buffer.readerIndex();
            if (length > maxLineLength) {
                boolean crlf = lf > buffer.readerIndex() && buffer.getByte(lf - 1) == '\r';
                buffer.readerIndex(lf + 1);
                fire(ctx, state, crlf ? OverlongLine.ENDED_WITH_CRLF : OverlongLine.ENDED_WITH_BARE_LF);
            } else {
                fire(ctx, state, buffer.readRetainedSlice(length));
            }
            if (state.tlsPending || state.closing) {
                // whatever the client pipelined behind STARTTLS (or behind a closing reply) is dropped unread
                buffer.skipBytes(buffer.readableBytes());
                return;
            }
        }
    }

    private void discardAll() {
        if (buffer.isReadable()) {
            lastDiscarded = buffer.getByte(buffer.writerIndex() - 1);
        }
        buffer.skipBytes(buffer.readableBytes());
    }

    private void fire(ChannelHandlerContext ctx, ConnectionState state, Object line) {
        state.moreInputBuffered = buffer.isReadable();
        ctx.fireChannelRead(line);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof SslHandshakeCompletionEvent) {
            ConnectionState.of(ctx.channel()).tlsPending = false;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        release();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        release();
        super.channelInactive(ctx);
    }

    private void release() {
        if (buffer != null) {
            buffer.release();
            buffer = null;
        }
    }
}
