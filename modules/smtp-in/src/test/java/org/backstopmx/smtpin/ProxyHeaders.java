package org.backstopmx.smtpin;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import java.nio.charset.StandardCharsets;
import org.backstopmx.core.config.AddressRange;
import org.backstopmx.core.config.ProxyProtocol;
import org.backstopmx.core.config.SmtpConfig;

/** PROXY protocol headers as a load balancer writes them, and servers that expect them. */
final class ProxyHeaders {
    /** The v2 signature (proxy-protocol.txt §2.2). */
    static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    private ProxyHeaders() {
    }

    /** {@code PROXY TCP4 <source> 192.0.2.25 <port> 25\r\n}. */
    static byte[] v1(String source, int port) {
        String family = source.indexOf(':') >= 0 ? "TCP6" : "TCP4";
        String destination = source.indexOf(':') >= 0 ? "2001:db8::25" : "192.0.2.25";
        return ("PROXY " + family + " " + source + " " + destination + " " + port + " 25\r\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    /** A binary PROXY header for TCP from {@code source}, written by Netty's encoder. */
    static byte[] v2(String source, int port) {
        boolean six = source.indexOf(':') >= 0;
        return encode(new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY,
                six ? HAProxyProxiedProtocol.TCP6 : HAProxyProxiedProtocol.TCP4, source,
                six ? "2001:db8::25" : "192.0.2.25", port, 25));
    }

    /** A binary header for another transport (UDP over IPv4). */
    static byte[] v2Udp(String source) {
        return encode(new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY, HAProxyProxiedProtocol.UDP4,
                source, "192.0.2.25", 4000, 25));
    }

    /** A v2 {@code LOCAL} header, as a load balancer's health check sends: signature, 0x20, AF_UNSPEC, length 0. */
    static byte[] v2Local() {
        byte[] b = new byte[16];
        System.arraycopy(V2_SIGNATURE, 0, b, 0, 12);
        b[12] = 0x20;
        return b;
    }

    private static byte[] encode(HAProxyMessage message) {
        EmbeddedChannel ch = new EmbeddedChannel(HAProxyMessageEncoder.INSTANCE);
        ch.writeOutbound(message);
        ByteBuf out = ch.readOutbound();
        byte[] bytes = ByteBufUtil.getBytes(out);
        out.release();
        ch.finishAndReleaseAll();
        return bytes;
    }

    static byte[] concat(byte[] a, String b) {
        byte[] tail = b.getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[a.length + tail.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(tail, 0, out, a.length, tail.length);
        return out;
    }

    /** {@code config} taking PROXY headers of {@code mode} from {@code trusted}. */
    static SmtpConfig behind(SmtpConfig config, ProxyProtocol mode, String... trusted) {
        return config.withProxy(mode, java.util.Arrays.stream(trusted).map(AddressRange::parse).toList());
    }
}
