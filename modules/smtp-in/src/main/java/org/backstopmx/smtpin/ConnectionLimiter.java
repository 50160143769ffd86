package org.backstopmx.smtpin;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.backstopmx.core.Metrics;
import org.backstopmx.core.SmtpReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Limits connections in total and per client address. A connection over a limit gets {@code 421 4.7.0} (RFC 5321
 * §3.8: a server may refuse a connection with 421) and is closed; the rest of the pipeline never sees it. James's
 * own limiters close silently, which senders retry sooner and log as a network fault.
 *
 * <p>The per-address count is of sessions really open. A sender that delivers one message per connection (Postfix)
 * opens its next connection the moment it has our {@code 221}, or right after writing QUIT without waiting for it;
 * counting the old connection until its close has gone through the network loop refused such a sender at its
 * concurrency limit. So:
 * <ul>
 *   <li>a session stops counting before its last reply is written ({@link #release}, called for 221 and 421), so
 *       the client cannot be connected again before it is uncounted;</li>
 *   <li>a connection over the per-address limit is not refused at once: it waits, unread and without a greeting,
 *       for up to {@link #CLOSING_GRACE} for a connection from the same address to end (a QUIT or an end of stream
 *       the loop has not yet read), takes its place if one does, and only then gets its 421.</li>
 * </ul>
 */
@ChannelHandler.Sharable
final class ConnectionLimiter extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionLimiter.class);
    private static final AttributeKey<Admission> ADMISSION = AttributeKey.valueOf("backstop.admission");
    /** How long a connection over the per-address limit waits for one of the same address's sessions to end. */
    static final Duration CLOSING_GRACE = Duration.ofSeconds(1);

    private final int maxTotal;
    private final int maxPerIp;
    private final String hostname;
    private final SmtpMetrics metrics;
    private final AtomicInteger total = new AtomicInteger();
    /** Guarded by itself. */
    private final Map<InetAddress, PerAddress> perIp = new HashMap<>();

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

    /** Stops counting {@code channel}'s session: it is ending. Idempotent; any thread. */
    static void release(Channel channel) {
        Admission a = channel.attr(ADMISSION).get();
        if (a != null) {
            a.release();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        metrics.session();
        InetAddress ip = ClientAddress.of(ctx.channel()).getAddress();
        Admission admission = new Admission(ip);
        ctx.channel().attr(ADMISSION).set(admission);
        int all = total.incrementAndGet();
        if (maxTotal > 0 && all > maxTotal) {
            refuse(ctx, admission, Replies.TOO_MANY_CONNECTIONS);
            return;
        }
        // set before the admission can be queued: another thread may hand it a slot at once; admitted() then runs
        // on this loop, after this method
        admission.onSlot = () -> ctx.executor().execute(() -> admitted(ctx, admission));
        if (takeSlot(admission)) {
            super.channelActive(ctx);
            return;
        }
        // over the per-address limit: wait, unread, for a session of this address to end
        admission.waiting = true;
        ctx.channel().config().setAutoRead(false);
        ctx.executor().schedule(() -> {
            if (cancelWait(admission)) {
                refuse(ctx, admission, Replies.TOO_MANY_CONNECTIONS_FROM_IP);
            }
        }, CLOSING_GRACE.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void admitted(ChannelHandlerContext ctx, Admission admission) {
        admission.waiting = false;
        if (!ctx.channel().isActive()) {
            admission.dropHeld();
            admission.release();
            return;
        }
        ctx.fireChannelActive();
        admission.replayHeld(ctx);
        ctx.channel().config().setAutoRead(true);
    }

    /**
     * Input of a connection waiting for a slot is held, in order, until it is admitted. Reading is off while it
     * waits, so this is only what was read with its PROXY header (a client that spoke before our greeting).
     */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Admission a = ctx.channel().attr(ADMISSION).get();
        if (a != null && a.waiting) {
            a.held.add(msg);
            return;
        }
        ctx.fireChannelRead(msg);
    }

    private void refuse(ChannelHandlerContext ctx, Admission admission, SmtpReply refusal) {
        LOG.info("reject: connect from [{}]: {}", admission.ip.getHostAddress(), refusal);
        metrics.reject(Metrics.RejectReason.CONNECTION_LIMIT);
        admission.waiting = false;
        admission.dropHeld();
        admission.release();
        ctx.pipeline().remove(this);
        ctx.pipeline().addFirst(new Goodbye.IgnoreInput());
        Goodbye.say(ctx.channel(), refusal, hostname);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        Admission a = ctx.channel().attr(ADMISSION).get();
        if (a != null) {
            a.dropHeld();
        }
        release(ctx.channel());
        super.channelInactive(ctx);
    }

    /** Takes a per-address slot for {@code a}, or queues it to be given one when one frees; true when taken. */
    private boolean takeSlot(Admission a) {
        synchronized (perIp) {
            PerAddress p = perIp.computeIfAbsent(a.ip, k -> new PerAddress());
            if (maxPerIp <= 0 || p.open < maxPerIp) {
                p.open++;
                a.hasSlot = true;
                return true;
            }
            p.waiting.add(a);
            return false;
        }
    }

    /** Takes {@code a} off the waiting list; false when it was not waiting (it has a slot, or never waited). */
    private boolean cancelWait(Admission a) {
        synchronized (perIp) {
            return cancelWaitLocked(a);
        }
    }

    private boolean cancelWaitLocked(Admission a) {
        PerAddress p = perIp.get(a.ip);
        if (p == null || !p.waiting.remove(a)) {
            return false;
        }
        if (p.open == 0 && p.waiting.isEmpty()) {
            perIp.remove(a.ip);
        }
        return true;
    }

    /** Frees a slot of {@code ip}, handing it to the oldest connection waiting for one. */
    private void freeSlot(InetAddress ip) {
        Admission next;
        synchronized (perIp) {
            PerAddress p = perIp.get(ip);
            p.open--;
            next = p.waiting.poll();
            if (next != null) {
                p.open++;
                next.hasSlot = true;
            } else if (p.open == 0) {
                perIp.remove(ip);
            }
        }
        if (next != null) {
            next.onSlot.run();
        }
    }

    private static final class PerAddress {
        int open;
        final ArrayDeque<Admission> waiting = new ArrayDeque<>();
    }

    /** One connection's place in the counts, given back once. */
    private final class Admission {
        final InetAddress ip;
        final AtomicBoolean released = new AtomicBoolean();
        /** Guarded by {@link #perIp}. */
        boolean hasSlot;
        /** Run when a waiting connection is given a slot. */
        volatile Runnable onSlot;
        /** Waiting for a slot; its input is held. On the channel's I/O loop only, as is {@link #held}. */
        boolean waiting;
        final List<Object> held = new ArrayList<>(1);

        Admission(InetAddress ip) {
            this.ip = ip;
        }

        void replayHeld(ChannelHandlerContext ctx) {
            for (Object msg : held) {
                ctx.fireChannelRead(msg);
            }
            held.clear();
        }

        void dropHeld() {
            held.forEach(ReferenceCountUtil::release);
            held.clear();
        }

        void release() {
            if (!released.compareAndSet(false, true)) {
                return;
            }
            total.decrementAndGet();
            boolean slot;
            synchronized (perIp) {
                slot = hasSlot;
                hasSlot = false;
                if (!slot) {
                    cancelWaitLocked(this); // released while waiting: it must not be given a slot later
                }
            }
            if (slot) {
                freeSlot(ip);
            }
        }
    }
}
