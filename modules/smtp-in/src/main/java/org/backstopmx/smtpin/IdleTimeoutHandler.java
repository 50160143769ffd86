package org.backstopmx.smtpin;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.backstopmx.core.Metrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a connection whose client has sent nothing for the idle timeout, with {@code 421 4.4.2} first (RFC 5321
 * §4.5.3.2 timeouts; Postfix answers the same way). James's handler waited for the second idle event, i.e. twice
 * the setting, and closed without a reply.
 */
final class IdleTimeoutHandler extends IdleStateHandler {
    private static final Logger LOG = LoggerFactory.getLogger(IdleTimeoutHandler.class);
    private final String hostname;
    private final SmtpMetrics metrics;

    IdleTimeoutHandler(Duration timeout, String hostname, SmtpMetrics metrics) {
        super(timeout.toMillis(), 0, 0, TimeUnit.MILLISECONDS);
        this.hostname = hostname;
        this.metrics = metrics;
    }

    @Override
    protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent evt) {
        if (evt.state() != IdleState.READER_IDLE || !evt.isFirst()) {
            return;
        }
        LOG.info("timeout after idle from [{}]", ClientAddress.text(ctx.channel()));
        metrics.reject(Metrics.RejectReason.IDLE_TIMEOUT);
        Goodbye.say(ctx, Replies.IDLE_TIMEOUT, hostname);
    }
}
