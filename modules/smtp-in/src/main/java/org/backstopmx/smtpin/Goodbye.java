package org.backstopmx.smtpin;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundInvoker;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import org.backstopmx.core.SmtpReply;

/**
 * The last words on a connection the server ends itself (too many connections, idle, too many errors, shutdown):
 * the reply with our hostname, {@code 421 4.4.2 backstop.example.org Timeout exceeded...}, then close.
 */
final class Goodbye {
    private Goodbye() {
    }

    /**
     * Writes {@code reply} and closes once it is sent, through {@code out}: a channel (from the pipeline's tail) or
     * a handler's context (from that handler on).
     */
    static ChannelFuture say(ChannelOutboundInvoker out, SmtpReply reply, String hostname) {
        Channel channel = out instanceof ChannelHandlerContext ctx ? ctx.channel() : (Channel) out;
        // uncounted before the client can read it and connect again
        ConnectionLimiter.release(channel);
        String line = reply.code() + " " + reply.enhanced() + " " + hostname + " " + reply.text() + "\r\n";
        return out.writeAndFlush(Unpooled.copiedBuffer(line, StandardCharsets.US_ASCII))
                .addListener(ChannelFutureListener.CLOSE);
    }

    /** Swallows what a client still sends to a connection that is being ended, so no protocol handler sees it. */
    static class IgnoreInput extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
