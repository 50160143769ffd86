package org.backstopmx.forwarder.delivery;

import java.net.InetAddress;
import java.util.List;
import org.backstopmx.core.EtrnService;
import org.backstopmx.forwarder.DomainNames;
import org.backstopmx.forwarder.RouteResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may start a flush with ETRN (RFC 1985): only for a served domain, only from one of the addresses its route
 * resolves to (its primary: nobody else may make us knock on its door) or from its {@code etrn-from} list. An allowed
 * ETRN marks the destination up and asks for its flush ({@link DownDestinations#requestFlush}), which the scheduler
 * runs: the reply is {@code 250} at once, as Postfix's, whether mail is waiting or not, and never waits for the queue.
 *
 * <p>Moves no state but through the flush. A queue failure during the flush is logged by it; the mail then goes at
 * each recipient's next retry. Thread-safe: no state of its own.
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
        down.requestFlush(d);
        LOG.info("ETRN {} from {}: flush asked for", d, client.getHostAddress());
        return EtrnService.Result.STARTED;
    }
}
