package org.backstopmx.smtpin;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Bounds the input a connection can pile up between the I/O loop and its worker thread. The framer and the DATA
 * receiver run off the I/O loop; without this, a client that sends faster than the spool file is written would
 * queue its whole message in memory. Reading stops above {@value #HIGH_WATER} unconsumed bytes and resumes below
 * {@value #LOW_WATER}, so concurrent large messages cost a bounded amount of heap each.
 */
@ChannelHandler.Sharable
final class InboundFlowControl extends ChannelInboundHandlerAdapter {
    static final long HIGH_WATER = 256 * 1024;
    static final long LOW_WATER = 64 * 1024;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf) {
            ConnectionState state = ConnectionState.of(ctx.channel());
            if (state.unconsumedBytes.addAndGet(((ByteBuf) msg).readableBytes()) > HIGH_WATER) {
                ctx.channel().config().setAutoRead(false);
            }
        }
        ctx.fireChannelRead(msg);
    }

    /** Called by the consumer after it took bytes off the count. */
    static void maybeResume(Channel channel, ConnectionState state) {
        if (!channel.config().isAutoRead() && state.unconsumedBytes.get() < LOW_WATER && !state.closing) {
            channel.config().setAutoRead(true);
        }
    }
}
