package org.backstopmx.forwarder;

import java.net.InetAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.backstopmx.core.PrimaryAddresses;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The addresses of the served domains' primaries, for the receiving side's screen, which must never refuse them: the
 * hosts mail is forwarded to (a configured route, else the MX hosts below our own preference, RFC 5321 §5.1), looked
 * up at start, after every reload and every {@link #REFRESH}, plus every domain's {@code etrn-from} list. A lookup
 * that fails keeps the domain's addresses from the last one that worked, so a DNS outage never turns a primary into
 * a stranger. Any thread.
 */
public final class PrimaryAddressBook implements PrimaryAddresses, AutoCloseable {
    /** How often the primaries are looked up again. */
    public static final Duration REFRESH = Duration.ofHours(1);
    private static final Logger LOG = LoggerFactory.getLogger(PrimaryAddressBook.class);

    private final RouteResolver routes;
    private final MxResolver dns;
    /** Per served domain, the addresses of its primaries; replaced whole by {@link #refresh}. */
    private volatile Map<String, Set<InetAddress>> byDomain = Map.of();
    private volatile Set<InetAddress> all = Set.of();
    private ScheduledExecutorService refresher;

    public PrimaryAddressBook(RouteResolver routes, MxResolver dns) {
        this.routes = routes;
        this.dns = dns;
    }

    @Override
    public boolean isPrimary(InetAddress client) {
        return all.contains(client) || routes.inAnyEtrnFrom(client);
    }

    /** The addresses now known per served domain, for the log and the tests. */
    public Map<String, Set<InetAddress>> addresses() {
        return byDomain;
    }

    /** Looks the primaries up on a thread of its own now, then every {@link #REFRESH}. */
    public synchronized void start() {
        if (refresher == null) {
            refresher = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "primary-addresses");
                t.setDaemon(true);
                return t;
            });
            refresher.scheduleWithFixedDelay(this::refreshQuietly, 0, REFRESH.toSeconds(), TimeUnit.SECONDS);
        }
    }

    /** Looks the primaries up again soon (after a reload changed the domains or routes); at once when not started. */
    public synchronized void refreshSoon() {
        if (refresher != null) {
            refresher.execute(this::refreshQuietly);
        } else {
            refreshQuietly();
        }
    }

    private void refreshQuietly() {
        try {
            refresh();
        } catch (RuntimeException e) {
            LOG.warn("primary addresses: lookup failed: {}", e.toString());
        }
    }

    /** Looks every served domain's primaries up now. */
    public synchronized void refresh() {
        Map<String, Set<InetAddress>> before = byDomain;
        Map<String, Set<InetAddress>> now = new TreeMap<>();
        for (String domain : routes.servedDomains()) {
            Set<InetAddress> known = before.getOrDefault(domain, Set.of());
            Lookup found = lookUp(domain);
            Set<InetAddress> addresses = new LinkedHashSet<>(found.addresses());
            if (!found.complete()) {
                addresses.addAll(known); // what could not be asked this time keeps its last answer
            }
            now.put(domain, Set.copyOf(addresses));
        }
        Set<InetAddress> union = new LinkedHashSet<>();
        now.values().forEach(union::addAll);
        byDomain = Map.copyOf(now);
        all = Set.copyOf(union);
        if (!now.equals(before)) {
            LOG.info("primary addresses, never screened: {}", now);
        }
    }

    /** What one lookup found; not complete when part of it failed for now (SERVFAIL, a timeout). */
    private record Lookup(Set<InetAddress> addresses, boolean complete) {
    }

    private Lookup lookUp(String domain) {
        Route route = routes.resolve(domain);
        if (!(route instanceof Route.Destinations destinations)) {
            return new Lookup(Set.of(), false);
        }
        Set<InetAddress> found = new LinkedHashSet<>();
        boolean complete = true;
        Map<String, AddressAnswer> asked = new HashMap<>();
        for (Route.Destination d : destinations.destinations()) {
            if (!d.addresses().isEmpty()) {
                found.addAll(d.addresses());
                continue;
            }
            AddressAnswer answer = asked.computeIfAbsent(d.host(), dns::addresses);
            if (answer instanceof AddressAnswer.Addresses a) {
                found.addAll(a.addresses());
            } else if (answer instanceof AddressAnswer.TemporaryFailure) {
                complete = false;
            }
        }
        return new Lookup(found, complete);
    }

    @Override
    public synchronized void close() {
        if (refresher != null) {
            refresher.shutdownNow();
        }
    }
}
