package org.backstopmx.smtpin;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.backstopmx.core.Metrics.ScreenCheck;
import org.backstopmx.core.Metrics.ScreenResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Client screening at the start of a session (after its PROXY header, if any), on the I/O loop, after the
 * connection limiter: it sees only admitted clients.
 *
 * <ul>
 *   <li>The DNS lists ({@link ClientScreen}) are asked as the session starts. The greeting is not held for them; the
 *       client's commands are, unread by the session, until the verdict is in (at most {@code dns.timeout}). The
 *       verdict goes into {@link ConnectionState#screenRefusal} before the first command reaches the session, which
 *       then refuses what a refused client asks ({@link SmtpChannelHandler}). Input held meanwhile is bounded by
 *       {@link InboundFlowControl}, which stands before this handler and counts it as unconsumed.</li>
 *   <li>Pregreet (postscreen's pregreet test): with {@code screen.greet-delay} above zero the session's
 *       {@code channelActive}, and so its 220 greeting, waits that long. A client that sends anything before it is
 *       not an SMTP client that waits for the server to speak (RFC 5321 §3.1, §4.3.1): it is told {@code 554 5.5.1}
 *       and the connection closed; the session never started, so the handlers after this one see neither its start
 *       nor its end.</li>
 * </ul>
 *
 * One instance per connection; every method runs on the channel's I/O loop.
 */
final class ScreenHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(ScreenHandler.class);

    private final ClientScreen screen;
    private final Duration greetDelay;
    private final String hostname;
    private final SmtpMetrics metrics;
    private final java.util.function.BooleanSupplier serverClosing;
    /** Input read before the verdict, in order. */
    private final ArrayDeque<Object> held = new ArrayDeque<>();
    private boolean greeted;
    private boolean decided;
    private boolean refused;

    /**
     * @param screen        the DNS list screen, or null when no list is configured
     * @param serverClosing whether the server is shutting down: a session still waiting for its greeting then never
     *                      gets one (it is told 421 by {@link ShutdownNotice})
     */
    ScreenHandler(ClientScreen screen, Duration greetDelay, String hostname, SmtpMetrics metrics,
            java.util.function.BooleanSupplier serverClosing) {
        this.screen = screen;
        this.greetDelay = greetDelay;
        this.hostname = hostname;
        this.metrics = metrics;
        this.serverClosing = serverClosing;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        InetAddress client = ClientAddress.of(ctx.channel()).getAddress();
        if (screen == null) {
            decided = true;
        } else {
            screen.screen(client).thenAccept(verdict -> ctx.executor().execute(() -> {
                ConnectionState state = ConnectionState.of(ctx.channel());
                state.allowListed = verdict.allowListed();
                state.screenRefusal = verdict.refusal();
                decided = true;
                release(ctx);
            }));
        }
        if (greetDelay.isZero()) {
            greet(ctx);
        } else {
            ctx.executor().schedule(() -> greet(ctx), greetDelay.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private void greet(ChannelHandlerContext ctx) {
        if (refused || !ctx.channel().isActive() || serverClosing.getAsBoolean()) {
            return;
        }
        greeted = true;
        if (!greetDelay.isZero()) {
            metrics.screened(ScreenCheck.PREGREET, ScreenResult.PASSED);
        }
        ctx.fireChannelActive();
        release(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (refused) {
            ReferenceCountUtil.release(msg);
        } else if (!greeted) {
            ReferenceCountUtil.release(msg);
            refused = true;
            metrics.screened(ScreenCheck.PREGREET, ScreenResult.REFUSED);
            LOG.info("screen: reject [{}]: talked before the greeting", ClientAddress.text(ctx.channel()));
            Goodbye.say(ctx, Replies.PREGREET, hostname);
        } else if (!decided || !held.isEmpty()) {
            held.add(msg);
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    /** Passes on the input held for the verdict, once the session has started and the verdict is in. */
    private void release(ChannelHandlerContext ctx) {
        if (!greeted || !decided) {
            return;
        }
        while (!held.isEmpty() && !refused) {
            ctx.fireChannelRead(held.poll());
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        discardHeld();
        if (greeted) {
            ctx.fireChannelInactive();
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        discardHeld();
    }

    private void discardHeld() {
        while (!held.isEmpty()) {
            ReferenceCountUtil.release(held.poll());
        }
    }
}
