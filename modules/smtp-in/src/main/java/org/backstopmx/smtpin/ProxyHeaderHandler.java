package org.backstopmx.smtpin;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.backstopmx.core.Metrics.ProxyRefusal;
import org.backstopmx.core.config.AddressRange;
import org.backstopmx.core.config.ProxyProtocol;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and 2) in front of the SMTP session, on the I/O loop:
 * {@code proxyDecoder proxyHeader} are a connection's whole pipeline until its header is read. The session's own
 * handlers are added, and sent {@code channelActive} (so the connection limiter counts the client, then James sends
 * the greeting), only once a header has been accepted; until then no byte is written, as the protocol requires of a
 * server that speaks first.
 *
 * <p>What is accepted: a header of a version {@code smtp.proxy-protocol} allows, from a peer in
 * {@code smtp.proxy-trusted}. A {@code PROXY TCP4}/{@code TCP6} header names the client, which then stands for the
 * peer everywhere ({@link ClientAddress}); a v2 {@code LOCAL} header (a load balancer's own health check) and a
 * {@code PROXY UNKNOWN} one keep the peer, as the specification says.
 *
 * <p>Everything else is refused: the connection is closed, one log line says why, and
 * {@code backstop.smtp.proxy.refused{reason}} counts it. Only a peer outside {@code smtp.proxy-trusted} is told
 * {@code 421 4.7.0} first: nothing has been read from it, and a peer that is not one of our load balancers is in all
 * likelihood a sender that reached the listener directly (a node port, a pod address); RFC 5321 §3.8 lets a server
 * refuse a connection with 421, which a sender logs and retries later through the MX instead of taking it for a
 * network fault, and the reply says nothing of the set-up. A trusted peer whose header is missing, malformed, of the
 * wrong version or for another transport gets no reply: the specification has the receiver drop such a connection
 * (Netty's decoder closes it as soon as the bytes cannot be a header), and what is at the other end is a load
 * balancer, or a client whose bytes we cannot frame, not a sender waiting for an SMTP line. A peer that closes
 * before sending anything (a plain TCP health check) is not counted.
 *
 * <p>Connections waiting for their header are not counted by the connection limits (they are counted by client,
 * and the client is not known yet); the wait is short ({@link #wait(Duration)}) and only trusted peers get one.
 * One instance per connection; every method runs on the channel's I/O loop.
 */
final class ProxyHeaderHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(ProxyHeaderHandler.class);
    static final String DECODER = "proxyDecoder";
    /** A load balancer sends its header with the connection's first bytes; this is plenty even over a slow path. */
    static final Duration MAX_WAIT = Duration.ofSeconds(10);

    private final ProxyProtocol mode;
    private final List<AddressRange> trusted;
    private final Duration wait;
    private final String hostname;
    private final SmtpMetrics metrics;
    private final Consumer<Channel> startSession;
    private final Decoder decoder = new Decoder();
    private ScheduledFuture<?> timeout;
    private boolean decided;

    /**
     * @param startSession adds the session's handlers after this one; called once, when a header is accepted
     */
    ProxyHeaderHandler(ProxyProtocol mode, List<AddressRange> trusted, Duration wait, String hostname,
            SmtpMetrics metrics, Consumer<Channel> startSession) {
        this.mode = mode;
        this.trusted = trusted;
        this.wait = wait;
        this.hostname = hostname;
        this.metrics = metrics;
        this.startSession = startSession;
    }

    /** How long a trusted peer has to send its header: {@link #MAX_WAIT}, or the idle timeout when shorter. */
    static Duration wait(Duration idleTimeout) {
        return idleTimeout.compareTo(MAX_WAIT) < 0 ? idleTimeout : MAX_WAIT;
    }

    /** The decoder to put in front of this handler. */
    HAProxyMessageDecoder decoder() {
        return decoder;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        InetAddress peer = peer(ctx);
        if (!isTrusted(peer)) {
            decided = true;
            metrics.proxyRefused(ProxyRefusal.UNTRUSTED);
            LOG.info("reject: connect from [{}]: not in smtp.proxy-trusted", peer.getHostAddress());
            ctx.pipeline().remove(DECODER);
            ctx.pipeline().addFirst(new Goodbye.IgnoreInput());
            Goodbye.say(ctx, Replies.PROXY_NOT_TRUSTED, hostname);
            return;
        }
        timeout = ctx.executor().schedule(() -> refuse(ctx, ProxyRefusal.MISSING,
                "no PROXY header within " + wait.toMillis() + " ms"), wait.toMillis(), TimeUnit.MILLISECONDS);
        // channelActive goes no further: the session, and its greeting, begin with the header
    }

    private boolean isTrusted(InetAddress peer) {
        for (AddressRange r : trusted) {
            if (r.contains(peer)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof HAProxyMessage header && !decided) {
                accept(ctx, header);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void accept(ChannelHandlerContext ctx, HAProxyMessage header) {
        int version = header.protocolVersion() == HAProxyProtocolVersion.V1 ? 1 : 2;
        if (!mode.accepts(version)) {
            refuse(ctx, ProxyRefusal.WRONG_VERSION, "a PROXY v" + version + " header, smtp.proxy-protocol is "
                    + mode.configName());
            return;
        }
        InetSocketAddress client = null; // LOCAL, UNKNOWN: the peer is the client
        if (header.command() == HAProxyCommand.PROXY && header.proxiedProtocol() != HAProxyProxiedProtocol.UNKNOWN) {
            if (header.proxiedProtocol() != HAProxyProxiedProtocol.TCP4
                    && header.proxiedProtocol() != HAProxyProxiedProtocol.TCP6) {
                refuse(ctx, ProxyRefusal.UNSUPPORTED, "a PROXY header for " + header.proxiedProtocol());
                return;
            }
            client = source(header);
            if (client == null) {
                refuse(ctx, ProxyRefusal.INVALID, "a PROXY header with an unusable source address");
                return;
            }
        }
        decided = true;
        timeout.cancel(false);
        if (client != null) {
            ClientAddress.setProxied(ctx.channel(), client);
        }
        LOG.debug("PROXY v{} {} from [{}]: client [{}]", version, header.command(), peer(ctx).getHostAddress(),
                ClientAddress.text(ctx.channel()));
        startSession.accept(ctx.channel());
        ctx.fireChannelActive();
        // input that came with the header follows it to the session's handlers when the decoder removes itself
        ctx.pipeline().remove(this);
    }

    private static InetSocketAddress source(HAProxyMessage header) {
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(header.sourceAddress());
        if (bytes == null) {
            return null;
        }
        try {
            return new InetSocketAddress(InetAddress.getByAddress(bytes), header.sourcePort());
        } catch (java.net.UnknownHostException | IllegalArgumentException e) {
            return null;
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (decided) {
            ctx.close();
            return;
        }
        Throwable innermost = cause; // Netty wraps the decoder's reason once or twice
        while (innermost.getCause() != null && innermost.getCause() != innermost) {
            innermost = innermost.getCause();
        }
        // the reason may quote the client's bytes: keep the line printable and short
        String why = String.valueOf(innermost.getMessage()).replaceAll("[^\\x20-\\x7e]", "?");
        refuse(ctx, ProxyRefusal.INVALID, "not a valid PROXY header: "
                + (why.length() > 120 ? why.substring(0, 120) + "..." : why));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!decided) {
            decided = true;
            timeout.cancel(false);
            if (decoder.sawInput) {
                metrics.proxyRefused(ProxyRefusal.MISSING);
                LOG.info("reject: connect from [{}]: closed before its PROXY header was complete",
                        peer(ctx).getHostAddress());
            } else {
                LOG.debug("connect from [{}] closed before sending anything", peer(ctx).getHostAddress());
            }
        }
        ctx.fireChannelInactive();
    }

    private void refuse(ChannelHandlerContext ctx, ProxyRefusal reason, String detail) {
        if (decided) {
            return;
        }
        decided = true;
        if (timeout != null) {
            timeout.cancel(false);
        }
        metrics.proxyRefused(reason);
        LOG.info("reject: connect from [{}]: {}", peer(ctx).getHostAddress(), detail);
        ctx.close();
    }

    private static InetAddress peer(ChannelHandlerContext ctx) {
        return ((InetSocketAddress) ctx.channel().remoteAddress()).getAddress();
    }

    /** Netty's decoder, noting whether any byte arrived (a TCP health check sends none). */
    private static final class Decoder extends HAProxyMessageDecoder {
        boolean sawInput;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (msg instanceof ByteBuf b && b.isReadable()) {
                sawInput = true;
            }
            super.channelRead(ctx, msg);
        }
    }
}
