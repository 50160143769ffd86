package org.backstopmx.smtpin;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.backstopmx.core.Metrics;
import org.backstopmx.core.SmtpReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Limits connections in total and per client address. A connection over a limit gets {@code 421 4.7.0} (RFC 5321
 * §3.8: a server may refuse a connection with 421) and is closed; the rest of the pipeline never sees it. James's
 * own limiters close silently, which senders retry sooner and log as a network fault.
 */
@ChannelHandler.Sharable
final class ConnectionLimiter extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionLimiter.class);
    private static final AttributeKey<InetAddress> COUNTED = AttributeKey.valueOf("backstop.counted");

    private final int maxTotal;
    private final int maxPerIp;
    private final String hostname;
    private final SmtpMetrics metrics;
    private final AtomicInteger total = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, AtomicInteger> perIp = new ConcurrentHashMap<>();

    ConnectionLimiter(int maxTotal, int maxPerIp, String hostname, SmtpMetrics metrics) {
        this.maxTotal = maxTotal;
        this.maxPerIp = maxPerIp;
        this.hostname = hostname;
        this.metrics = metrics;
    }

    /** Connections now open and admitted. */
    int active() {
        return total.get();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        metrics.session();
        InetAddress ip = ((InetSocketAddress) ctx.channel().remoteAddress()).getAddress();
        int all = total.incrementAndGet();
        int fromIp = perIp.computeIfAbsent(ip, k -> new AtomicInteger()).incrementAndGet();
        ctx.channel().attr(COUNTED).set(ip);
        SmtpReply refusal = null;
        if (maxTotal > 0 && all > maxTotal) {
            refusal = Replies.TOO_MANY_CONNECTIONS;
        } else if (maxPerIp > 0 && fromIp > maxPerIp) {
            refusal = Replies.TOO_MANY_CONNECTIONS_FROM_IP;
        }
        if (refusal == null) {
            super.channelActive(ctx);
            return;
        }
        LOG.info("reject: connect from [{}]: {}", ip.getHostAddress(), refusal);
        metrics.reject(Metrics.RejectReason.CONNECTION_LIMIT);
        ctx.pipeline().remove(this);
        ctx.pipeline().addFirst(new Goodbye.IgnoreInput());
        Goodbye.say(ctx.channel(), refusal, hostname);
        // balance our own counters now: channelInactive of this handler will not be called any more
        release(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        release(ctx);
        super.channelInactive(ctx);
    }

    private void release(ChannelHandlerContext ctx) {
        InetAddress ip = ctx.channel().attr(COUNTED).getAndSet(null);
        if (ip == null) {
            return;
        }
        total.decrementAndGet();
        perIp.computeIfPresent(ip, (k, n) -> n.decrementAndGet() == 0 ? null : n);
    }
}
