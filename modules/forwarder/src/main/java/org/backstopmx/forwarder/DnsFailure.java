package org.backstopmx.forwarder;

/** Why a DNS question got no usable answer this time. Every one of them is temporary: the question is asked again later. */
public enum DnsFailure {
    /** The server answered SERVFAIL (e.g. its upstream is down, or DNSSEC validation failed). */
    SERVFAIL,
    /** No answer within the configured timeout. */
    TIMEOUT,
    /** The server answered REFUSED (usually a resolver that does not serve us). */
    REFUSED,
    /** The server could not be reached (port unreachable, no route, socket error). */
    NETWORK,
    /** Anything else: another error rcode, a CNAME loop or chain too long, a malformed answer. */
    OTHER
}
