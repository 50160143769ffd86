package org.backstopmx.forwarder;

import java.net.InetAddress;
import java.util.List;
import java.util.Objects;

/** Where mail for one domain goes now: to these hosts in this order, later, or nowhere. */
public sealed interface Route {

    /** The port for MX hosts and implicit MX: the SMTP port IANA assigns. */
    int SMTP_PORT = 25;

    /** Try these destinations in order; the first that accepts the transaction wins. Never empty. */
    record Destinations(List<Destination> destinations) implements Route {
        public Destinations {
            destinations = List.copyOf(destinations);
            if (destinations.isEmpty()) {
                throw new IllegalArgumentException("no destinations");
            }
        }

        public static Destinations of(Destination... destinations) {
            return new Destinations(List.of(destinations));
        }
    }

    /**
     * Keep the mail and try again later.
     *
     * @param status  the RFC 3463 enhanced status (class 4) to record and to report in a delay DSN
     * @param reason  one line for the log and the queue's last reply
     * @param flagged true when this will not get better by waiting: the operator must act (a served domain whose
     *                DNS says it gets no mail, or that sends mail back to us); never the sender's fault
     */
    record Defer(String status, String reason, boolean flagged) implements Route {
        public Defer {
            Objects.requireNonNull(status, "status");
            Objects.requireNonNull(reason, "reason");
            if (!status.startsWith("4.")) {
                throw new IllegalArgumentException("a deferral needs a 4.x.x status: " + status);
            }
        }
    }

    /**
     * Give up: the mail cannot be delivered to this domain, ever.
     *
     * @param status the RFC 3463 enhanced status (class 5) for the DSN
     * @param reason one line for the log and the DSN
     */
    record Fail(String status, String reason) implements Route {
        public Fail {
            Objects.requireNonNull(status, "status");
            Objects.requireNonNull(reason, "reason");
            if (!status.startsWith("5.")) {
                throw new IllegalArgumentException("a failure needs a 5.x.x status: " + status);
            }
        }
    }

    /**
     * One host to try.
     *
     * @param host      the host name (or address literal) to connect to and to name in logs
     * @param port      the TCP port
     * @param addresses the addresses when they are already known (an address literal, an implicit MX); empty means
     *                  look up the A/AAAA records of {@code host} when connecting
     */
    record Destination(String host, int port, List<InetAddress> addresses) {
        public Destination {
            Objects.requireNonNull(host, "host");
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port out of range: " + port);
            }
            addresses = List.copyOf(addresses);
        }

        public static Destination mx(String host) {
            return new Destination(host, SMTP_PORT, List.of());
        }

        /** Whether {@link #addresses} must still be looked up. */
        public boolean needsAddressLookup() {
            return addresses.isEmpty();
        }

        @Override
        public String toString() {
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        }
    }
}
