package org.backstopmx.smtpin;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;

/**
 * The address of a connection's client: the source a trusted PROXY header named ({@link ProxyHeaderHandler}), else
 * the TCP peer. Everything that judges or records the client (the connection limits, relay control and ETRN, the
 * {@code Received:} header, the logs) asks here or through the session, whose transport answers from here.
 */
final class ClientAddress {
    private static final AttributeKey<InetSocketAddress> PROXIED = AttributeKey.valueOf("backstop.proxied-client");

    private ClientAddress() {
    }

    /** The client of {@code channel}. */
    static InetSocketAddress of(Channel channel) {
        InetSocketAddress proxied = channel.attr(PROXIED).get();
        return proxied != null ? proxied : (InetSocketAddress) channel.remoteAddress();
    }

    /** The client as an address literal for logs, {@code 192.0.2.1} or {@code 2001:db8::1}. */
    static String text(Channel channel) {
        InetSocketAddress a = of(channel);
        return a == null ? "unknown" : a.getAddress().getHostAddress();
    }

    /** Records the client a PROXY header named; set before the session starts, never changed after. */
    static void setProxied(Channel channel, InetSocketAddress client) {
        channel.attr(PROXIED).set(client);
    }
}
