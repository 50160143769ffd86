package org.backstopmx.forwarder.delivery;

import java.net.InetAddress;
import java.util.List;
import org.backstopmx.core.EtrnService;
import org.backstopmx.core.QueueException;
import org.backstopmx.forwarder.DomainNames;
import org.backstopmx.forwarder.RouteResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may start a flush with ETRN (RFC 1985): only for a served domain, only from one of the addresses its route
 * resolves to (its primary: nobody else may make us knock on its door) or from its {@code etrn-from} list. An allowed
 * ETRN flushes the domain ({@link DownDestinations#flush}).
 *
 * <p>Moves no state but through the flush. A queue failure during the flush is answered as unavailable (the client
 * may try again); nothing is retried here. Thread-safe: no state of its own.
 */
final class EtrnGate {
    private static final Logger LOG = LoggerFactory.getLogger(EtrnGate.class);

    private final RouteResolver routes;
    private final Connector connector;
    private final DownDestinations down;

    EtrnGate(RouteResolver routes, Connector connector, DownDestinations down) {
        this.routes = routes;
        this.connector = connector;
        this.down = down;
    }

    EtrnService.Result etrn(String domain, InetAddress client) {
        String d = DomainNames.normalize(domain);
        if (!routes.isServed(d)) {
            return EtrnService.Result.UNKNOWN_DOMAIN;
        }
        if (!routes.etrnAllowedFrom(d, client)) { // the configured list first: it needs no DNS
            List<InetAddress> primary = connector.primaryAddresses(d);
            if (!primary.contains(client)) {
                LOG.info("ETRN {} from {} refused: not one of its primary's addresses {} nor in its etrn-from", d,
                        client.getHostAddress(), primary.stream().map(InetAddress::getHostAddress).toList());
                return EtrnService.Result.NOT_ALLOWED;
            }
        }
        try {
            int pending = down.flush(d);
            LOG.info("ETRN {} from {}: {} recipients pending", d, client.getHostAddress(), pending);
            return pending > 0 ? EtrnService.Result.STARTED : EtrnService.Result.NOTHING_WAITING;
        } catch (QueueException e) {
            LOG.error("ETRN {}: cannot flush: {}", d, e.getMessage());
            return EtrnService.Result.UNAVAILABLE;
        }
    }
}
