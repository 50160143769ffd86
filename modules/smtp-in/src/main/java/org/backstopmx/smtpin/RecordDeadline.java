package org.backstopmx.smtpin;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ByteProcessor;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.backstopmx.core.Metrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A deadline per record, after Postfix's {@code smtpd_per_record_deadline}: a command line, a DATA line, or 64 KiB
 * of a BDAT chunk, once begun, must arrive whole within {@code smtp.record-deadline}, and within the much shorter
 * {@code smtp.stress-record-deadline} while the listener is under stress (four fifths of {@code
 * smtp.max-connections} open). The idle timeout alone lets a client that sends one byte every few seconds hold its
 * connection for ever; enough of them fill the listener. Closed with {@code 421 4.4.2}, counted as {@code
 * slow_client}.
 *
 * <p>Only the client's own slowness counts: no deadline runs while no record is begun (the client waits for our
 * reply, the idle timeout covers silence), and none while reading is paused by {@link InboundFlowControl} (the
 * rest of the record may be waiting in our socket buffer). Runs on the I/O loop; times come from the injected
 * clock, looked at every {@code tick}.
 */
final class RecordDeadline extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(RecordDeadline.class);
    /** A record with no line end in it ends after this many bytes (BDAT chunks need not hold any). */
    static final int RECORD_BYTES = 64 * 1024;
    /** How often a connection's deadline is looked at. */
    static final Duration TICK = Duration.ofSeconds(1);

    private final Duration deadline;
    private final Duration stressDeadline;
    private final BooleanSupplier underStress;
    private final Clock clock;
    private final Duration tick;
    private final String hostname;
    private final SmtpMetrics metrics;
    /** When the record now arriving began (epoch millis), or -1 when none is begun. */
    private long recordStart = -1;
    private long recordBytes;
    private ScheduledFuture<?> check;

    RecordDeadline(Duration deadline, Duration stressDeadline, BooleanSupplier underStress, Clock clock, Duration tick,
            String hostname, SmtpMetrics metrics) {
        this.deadline = deadline;
        this.stressDeadline = stressDeadline;
        this.underStress = underStress;
        this.clock = clock;
        this.tick = tick;
        this.hostname = hostname;
        this.metrics = metrics;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            start(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        start(ctx);
        super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf in && in.isReadable()) {
            long now = clock.millis();
            int lastLf = in.forEachByteDesc(ByteProcessor.FIND_LF);
            if (lastLf >= 0) {
                // the records before the last line end are whole; what follows it begins the next
                int after = in.writerIndex() - lastLf - 1;
                recordStart = after > 0 ? now : -1;
                recordBytes = after;
            } else {
                if (recordStart < 0) {
                    recordStart = now;
                }
                recordBytes += in.readableBytes();
                if (recordBytes >= RECORD_BYTES) {
                    recordStart = now;
                    recordBytes %= RECORD_BYTES;
                }
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        stop();
        super.channelInactive(ctx);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        stop();
    }

    private void start(ChannelHandlerContext ctx) {
        if (check == null) {
            check = ctx.executor().scheduleWithFixedDelay(() -> check(ctx), tick.toMillis(), tick.toMillis(),
                    TimeUnit.MILLISECONDS);
        }
    }

    private void stop() {
        if (check != null) {
            check.cancel(false);
        }
    }

    private void check(ChannelHandlerContext ctx) {
        if (recordStart < 0 || !ctx.channel().isActive()) {
            return;
        }
        long now = clock.millis();
        if (!ctx.channel().config().isAutoRead()) {
            // we stopped reading: the rest may be here already, and the client is not late
            recordStart = now;
            return;
        }
        Duration limit = underStress.getAsBoolean() ? stressDeadline : deadline;
        if (now - recordStart < limit.toMillis()) {
            return;
        }
        stop();
        recordStart = -1;
        LOG.info("timeout: a line not sent whole within {} from [{}]", limit, ClientAddress.text(ctx.channel()));
        metrics.reject(Metrics.RejectReason.SLOW_CLIENT);
        ctx.pipeline().addFirst(new Goodbye.IgnoreInput());
        Goodbye.say(ctx, Replies.IDLE_TIMEOUT, hostname);
    }
}
