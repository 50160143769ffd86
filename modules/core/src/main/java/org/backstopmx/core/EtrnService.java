package org.backstopmx.core;

import java.net.InetAddress;

/**
 * The delivering side's answer to {@code ETRN <domain>} (RFC 1985): a primary that is back asks us to flush the mail
 * we hold for it now rather than at each recipient's next retry. The receiving side parses the command and turns the
 * result into a reply; the forwarder decides who may ask and starts the flush.
 */
@FunctionalInterface
public interface EtrnService {

    /** What became of a request, one per RFC 1985 reply. */
    enum Result {
        /** {@code 250}: delivery of the waiting mail for the domain has started. */
        STARTED,
        /** {@code 251}: the domain is one we may flush for, but nothing is waiting. */
        NOTHING_WAITING,
        /** {@code 459}: the domain is not one we hold mail for (not a served domain). */
        UNKNOWN_DOMAIN,
        /** {@code 459}: the client is not one of the domain's configured primary addresses. */
        NOT_ALLOWED,
        /** {@code 458}: the flush could not be started (queue unavailable). */
        UNAVAILABLE
    }

    /**
     * Starts delivering everything held for {@code domain} when {@code client} may ask for it. Returns quickly: the
     * delivery itself runs on the forwarder's threads. May block briefly on the queue and on DNS (to learn the
     * primary's addresses), so the caller must not run it on a network event loop.
     *
     * @param domain the domain as given, lower case, without {@code @} or trailing dot
     * @param client the address the request came from
     */
    Result etrn(String domain, InetAddress client);
}
