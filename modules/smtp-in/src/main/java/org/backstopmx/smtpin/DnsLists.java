package org.backstopmx.smtpin;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.backstopmx.core.Metrics.ScreenResult;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.core.config.HostPort;
import org.backstopmx.core.config.ScreenConfig.DnsList;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.Cache;
import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;
import org.xbill.DNS.lookup.LookupResult;
import org.xbill.DNS.lookup.LookupSession;
import org.xbill.DNS.lookup.NoSuchDomainException;
import org.xbill.DNS.lookup.NoSuchRRSetException;

/**
 * Asks DNS lists about clients: one A query (RFC 5782 §2.1) of {@link DnsListName} through {@code dns.server} (or
 * the system's resolvers) with {@code dns.timeout}, on dnsjava's own I/O thread, never the caller's. One cache for
 * all sessions keeps each answer for its TTL (NXDOMAIN for the SOA's negative TTL when the list sends one, RFC 2308),
 * so a client that reconnects is not looked up again while its answer holds.
 *
 * <p>dnsjava is used here directly rather than through the forwarder's resolver, which this module may not see
 * ({@code smtp-in} and {@code forwarder} depend only on {@code core}); that resolver's address lookup also asks for
 * AAAA records and blocks its caller, where a list needs one A query answered asynchronously.
 *
 * <p>The future returned never completes exceptionally and always completes within {@code dns.timeout} (and a
 * little): a list that does not answer is {@link ScreenResult#TIMEOUT}, one that fails {@link ScreenResult#ERROR},
 * and both count as not listed. Thread-safe.
 */
final class DnsLists {
    private final LookupSession session;
    private final Duration timeout;

    DnsLists(DnsConfig dns) {
        this.timeout = Objects.requireNonNull(dns.timeout(), "dns.timeout");
        this.session = LookupSession.builder()
                .resolver(resolver(dns.server(), timeout))
                .cache(new Cache(DClass.IN))
                .build();
    }

    private static Resolver resolver(HostPort server, Duration timeout) {
        ExtendedResolver extended;
        if (server == null) {
            extended = new ExtendedResolver();
        } else {
            InetSocketAddress address = new InetSocketAddress(server.host(), server.port());
            if (address.isUnresolved()) {
                throw new IllegalArgumentException("dns.server: cannot resolve " + server.host());
            }
            extended = new ExtendedResolver(new Resolver[] {new SimpleResolver(address)});
        }
        // dnsjava 3.x has a per-server and an overall timeout: both are dns.timeout
        for (Resolver r : extended.getResolvers()) {
            r.setTimeout(timeout);
        }
        extended.setTimeout(timeout);
        extended.setRetries(1);
        return extended;
    }

    /** What {@code list} says of {@code client}: listed, clean, timeout or error. */
    CompletableFuture<ScreenResult> ask(DnsList list, InetAddress client) {
        Name name;
        try {
            name = Name.fromString(DnsListName.of(client, list.zone()));
        } catch (TextParseException e) {
            return CompletableFuture.completedFuture(ScreenResult.ERROR); // the zone was validated at start
        }
        return session.lookupAsync(name, Type.A, DClass.IN).toCompletableFuture()
                // a last guard: dnsjava's own timeout fires first
                .orTimeout(timeout.toMillis() + 200, TimeUnit.MILLISECONDS)
                .handle((result, failure) -> failure == null ? listed(list, result) : outcome(failure));
    }

    private static ScreenResult listed(DnsList list, LookupResult result) {
        for (Record r : result.getRecords()) {
            if (r instanceof ARecord a && list.match().matches(a.getAddress())) {
                return ScreenResult.LISTED;
            }
        }
        return ScreenResult.CLEAN;
    }

    private static ScreenResult outcome(Throwable failure) {
        Throwable t = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (t instanceof NoSuchDomainException || t instanceof NoSuchRRSetException) {
            return ScreenResult.CLEAN;
        }
        if (t instanceof TimeoutException || t instanceof IOException && String.valueOf(t.getMessage()).contains("Timed out")
                || t instanceof java.net.SocketTimeoutException) {
            return ScreenResult.TIMEOUT;
        }
        return ScreenResult.ERROR;
    }
}
