package org.backstopmx.core.config;

/**
 * {@code screen.rate.*}: how much one client, and one network of clients, may ask of us in a minute (Postfix's
 * anvil limits). A network is the client's /24 for IPv4 and its /64 for IPv6, the block one provider hands one
 * customer. Each limit counts in windows of one minute, the first opened by the first connection or message
 * counted, the next by the first one after it has closed; 0 turns a limit off.
 * Clients in {@code screen.trusted} are never limited.
 *
 * @param connectionsPerClient  {@code screen.rate.connections-per-client}: connections a minute from one address
 *                              (default 60)
 * @param connectionsPerNetwork {@code screen.rate.connections-per-network}: from one /24 or /64 (default 240)
 * @param messagesPerClient     {@code screen.rate.messages-per-client}: messages (MAIL commands) a minute from one
 *                              address (default 600)
 * @param messagesPerNetwork    {@code screen.rate.messages-per-network}: from one /24 or /64 (default 2400)
 */
public record RateConfig(int connectionsPerClient, int connectionsPerNetwork, int messagesPerClient,
        int messagesPerNetwork) {

    public RateConfig {
        if (connectionsPerClient < 0 || connectionsPerNetwork < 0 || messagesPerClient < 0 || messagesPerNetwork < 0) {
            throw new IllegalArgumentException("rate limits must be 0 (off) or positive");
        }
    }

    public static RateConfig defaults() {
        return new RateConfig(60, 240, 600, 2400);
    }

    /** No limit at all. */
    public static RateConfig off() {
        return new RateConfig(0, 0, 0, 0);
    }

    /** Whether connections are limited at all. */
    public boolean limitsConnections() {
        return connectionsPerClient > 0 || connectionsPerNetwork > 0;
    }

    /** Whether messages are limited at all. */
    public boolean limitsMessages() {
        return messagesPerClient > 0 || messagesPerNetwork > 0;
    }
}
