package org.backstopmx.smtpin;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.backstopmx.core.Metrics.RejectReason;
import org.backstopmx.core.SmtpReply;

/**
 * The connection limits of {@code screen.rate.*} ({@link ClientRates}), on the I/O loop right after the
 * {@link ConnectionLimiter}: it sees only connections admitted there. A connection over a limit is told
 * {@code 421 4.7.0} (RFC 5321 §3.8) and closed before its greeting; the handlers after this one never see it start.
 * It is counted as a {@code rate_limit} refusal.
 */
@ChannelHandler.Sharable
final class RateLimitHandler extends ChannelInboundHandlerAdapter {
    private final ClientRates rates;
    private final String hostname;
    private final SmtpMetrics metrics;

    RateLimitHandler(ClientRates rates, String hostname, SmtpMetrics metrics) {
        this.rates = rates;
        this.hostname = hostname;
        this.metrics = metrics;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        SmtpReply refusal = rates.connection(ClientAddress.of(ctx.channel()).getAddress());
        if (refusal == null) {
            ctx.fireChannelActive();
            return;
        }
        metrics.reject(RejectReason.RATE_LIMIT);
        // in this handler's place, so input the limiter held back is swallowed too
        ctx.pipeline().replace(this, "rateRefused", new Goodbye.IgnoreInput());
        Goodbye.say(ctx.channel(), refusal, hostname);
    }
}
