package org.backstopmx.forwarder;

/**
 * The DNS questions the forwarder asks, answered as values of our own so that nothing above this interface sees a
 * DNS library type.
 *
 * <p>Names are passed as ASCII (A-label) domain names, with or without a trailing dot, in any case. Implementations
 * are thread-safe, never throw for a DNS outcome (a timeout or an unreachable server is a
 * {@link MxAnswer.TemporaryFailure}, not an exception), and return within about the configured DNS timeout.
 * Answers may come from a cache, for at most the TTL the server gave.
 *
 * <p>Production uses {@link DnsjavaMxResolver}; unit tests use a static map.
 */
public interface MxResolver {

    /** The MX records of {@code domain}, in no particular order (sorting and the RFC 5321 §5.1 rule are the caller's). */
    MxAnswer mx(String domain);

    /** The A and AAAA records of {@code host} (both families; CNAMEs followed). */
    AddressAnswer addresses(String host);
}
