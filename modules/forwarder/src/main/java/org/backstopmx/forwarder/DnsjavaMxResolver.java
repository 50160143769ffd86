package org.backstopmx.forwarder;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.core.config.HostPort;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.Cache;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;
import org.xbill.DNS.lookup.InvalidZoneDataException;
import org.xbill.DNS.lookup.LookupFailedException;
import org.xbill.DNS.lookup.LookupResult;
import org.xbill.DNS.lookup.LookupSession;
import org.xbill.DNS.lookup.NoSuchDomainException;
import org.xbill.DNS.lookup.NoSuchRRSetException;
import org.xbill.DNS.lookup.RedirectLoopException;
import org.xbill.DNS.lookup.RedirectOverflowException;
import org.xbill.DNS.lookup.ServerFailedException;

/**
 * {@link MxResolver} on dnsjava's {@link LookupSession}: one configured server ({@code dns.server}) or the system's
 * resolvers, {@code dns.timeout} on every resolver, and one shared cache that keeps positive answers for their TTL.
 *
 * <p>No dnsjava global state is used or changed: no default resolver, no default cache, no search path, no hosts
 * file (a hosts-file entry must never override what DNS says about a mail domain). Every name is looked up as an
 * absolute name.
 *
 * <p>How dnsjava reports each outcome, and what it becomes here:
 * <table>
 *   <caption>outcomes</caption>
 *   <tr><th>DNS</th><th>dnsjava 3.6 {@code LookupSession}</th><th>answer</th></tr>
 *   <tr><td>NOERROR with records</td><td>records (CNAME chain already followed)</td><td>Records / Addresses</td></tr>
 *   <tr><td>NOERROR, empty (NODATA)</td><td>empty list, no exception</td><td>NoRecords / NoAddresses</td></tr>
 *   <tr><td>{@code MX 0 .}</td><td>an MX record whose target is the root</td><td>NullMx</td></tr>
 *   <tr><td>NXDOMAIN</td><td>{@code NoSuchDomainException}</td><td>NxDomain</td></tr>
 *   <tr><td>SERVFAIL</td><td>{@code ServerFailedException}</td><td>TemporaryFailure(SERVFAIL)</td></tr>
 *   <tr><td>REFUSED</td><td>plain {@code LookupFailedException} naming the rcode</td><td>TemporaryFailure(REFUSED)</td></tr>
 *   <tr><td>no answer</td><td>{@code IOException} "Timed out while trying to resolve" ({@code SocketTimeoutException} from a lone {@code SimpleResolver})</td><td>TemporaryFailure(TIMEOUT)</td></tr>
 *   <tr><td>port unreachable, socket error</td><td>{@code PortUnreachableException}, other {@code IOException}</td><td>TemporaryFailure(NETWORK)</td></tr>
 * </table>
 *
 * <p>Negative answers (NXDOMAIN, NODATA) are cached only when the server sends an SOA with them, for the SOA's
 * negative TTL (RFC 2308).
 */
public final class DnsjavaMxResolver implements MxResolver {
    private final LookupSession session;
    private final Duration bound;

    /** A resolver for {@code dns.server} (or the system's resolvers when it is null) with {@code dns.timeout}. */
    public DnsjavaMxResolver(DnsConfig dns) {
        this(dns, new Cache());
    }

    /** The same with a cache of the caller's (tests cap its TTLs). */
    DnsjavaMxResolver(DnsConfig dns, Cache cache) {
        Objects.requireNonNull(dns, "dns");
        Duration timeout = Objects.requireNonNull(dns.timeout(), "dns.timeout");
        this.session = LookupSession.builder()
                .resolver(resolver(dns.server(), timeout))
                .cache(Objects.requireNonNull(cache, "cache"))
                .build();
        // A last guard should dnsjava never complete a lookup: the resolver's own timeout fires long before, a CNAME
        // chain costs one more query.
        this.bound = timeout.multipliedBy(2).plusSeconds(1);
    }

    /** The resolver for {@code dns.server} (or the system's) with {@code dns.timeout}; other lookups share it. */
    public static Resolver resolver(HostPort server, Duration timeout) {
        ExtendedResolver extended;
        if (server == null) {
            extended = new ExtendedResolver(); // the system's servers (resolv.conf), each with its own SimpleResolver
        } else {
            InetSocketAddress address = new InetSocketAddress(server.host(), server.port());
            if (address.isUnresolved()) {
                throw new IllegalArgumentException("dns.server: cannot resolve " + server.host());
            }
            extended = new ExtendedResolver(new Resolver[] {new SimpleResolver(address)});
        }
        // The per-server and the overall timeouts are separate settings in dnsjava 3.x: set both.
        for (Resolver r : extended.getResolvers()) {
            r.setTimeout(timeout);
        }
        extended.setTimeout(timeout);
        return extended;
    }

    @Override
    public MxAnswer mx(String domain) {
        Name name = absolute(domain);
        if (name == null) {
            return new MxAnswer.NxDomain();
        }
        QueryResult o = await(lookup(name, Type.MX));
        if (o.failure() != null) {
            return new MxAnswer.TemporaryFailure(o.failure(), o.detail());
        }
        if (o.nxdomain()) {
            return new MxAnswer.NxDomain();
        }
        List<MxRecord> records = new ArrayList<>();
        boolean nullMx = false;
        for (Record r : o.records()) {
            if (r instanceof MXRecord mx) {
                if (mx.getTarget().equals(Name.root)) {
                    nullMx = true; // RFC 7505: "MX 0 ." means the domain accepts no mail
                } else {
                    records.add(new MxRecord(mx.getPriority(), mx.getTarget().toString(true), mx.getTTL()));
                }
            }
        }
        if (!records.isEmpty()) {
            return new MxAnswer.Records(records); // a null MX mixed with real ones (RFC 7505 §3 forbids it) is ignored
        }
        return nullMx ? new MxAnswer.NullMx() : new MxAnswer.NoRecords();
    }

    @Override
    public AddressAnswer addresses(String host) {
        Name name = absolute(host);
        if (name == null) {
            return new AddressAnswer.NxDomain();
        }
        // both families in flight at once
        CompletableFuture<LookupResult> a = lookup(name, Type.A);
        CompletableFuture<LookupResult> aaaa = lookup(name, Type.AAAA);
        QueryResult v4 = await(a);
        QueryResult v6 = await(aaaa);
        List<InetAddress> found = new ArrayList<>();
        for (QueryResult o : List.of(v4, v6)) {
            for (Record r : o.records()) {
                if (r instanceof ARecord ar) {
                    found.add(ar.getAddress());
                } else if (r instanceof AAAARecord ar) {
                    found.add(ar.getAddress());
                }
            }
        }
        if (!found.isEmpty()) {
            return new AddressAnswer.Addresses(found);
        }
        for (QueryResult o : List.of(v4, v6)) {
            if (o.failure() != null) {
                return new AddressAnswer.TemporaryFailure(o.failure(), o.detail());
            }
        }
        return v4.nxdomain() || v6.nxdomain() ? new AddressAnswer.NxDomain() : new AddressAnswer.NoAddresses();
    }

    /** The absolute name, or null when the text cannot be a domain name at all (so no such domain can exist). */
    private static Name absolute(String domain) {
        String n = DomainNames.normalize(domain);
        if (n.isEmpty()) {
            return null;
        }
        try {
            return Name.fromString(n + ".");
        } catch (TextParseException e) {
            return null;
        }
    }

    private CompletableFuture<LookupResult> lookup(Name name, int type) {
        try {
            return session.lookupAsync(name, type).toCompletableFuture();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** What one lookup came to: records, or NXDOMAIN, or a temporary failure. */
    private record QueryResult(List<Record> records, boolean nxdomain, DnsFailure failure, String detail) {
        static QueryResult of(List<Record> records) {
            return new QueryResult(List.copyOf(records), false, null, null);
        }

        static QueryResult nxDomain() {
            return new QueryResult(List.of(), true, null, null);
        }

        static QueryResult failed(DnsFailure failure, String detail) {
            return new QueryResult(List.of(), false, failure, detail);
        }
    }

    private QueryResult await(CompletableFuture<LookupResult> future) {
        try {
            return QueryResult.of(future.get(bound.toMillis(), TimeUnit.MILLISECONDS).getRecords());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            future.cancel(false);
            return QueryResult.failed(DnsFailure.OTHER, "interrupted");
        } catch (TimeoutException e) {
            future.cancel(false);
            return QueryResult.failed(DnsFailure.TIMEOUT, "no answer within " + bound.toMillis() + " ms");
        } catch (ExecutionException | CompletionException e) {
            return classify(e.getCause() == null ? e : e.getCause());
        }
    }

    private static QueryResult classify(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        String detail = t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
        if (t instanceof NoSuchDomainException) {
            return QueryResult.nxDomain();
        }
        if (t instanceof NoSuchRRSetException) {
            return QueryResult.of(List.of()); // NODATA; 3.6 gives an empty list instead, both mean the same
        }
        if (t instanceof ServerFailedException) {
            return QueryResult.failed(DnsFailure.SERVFAIL, detail);
        }
        if (t instanceof RedirectLoopException || t instanceof RedirectOverflowException
                || t instanceof InvalidZoneDataException) {
            return QueryResult.failed(DnsFailure.OTHER, detail);
        }
        if (t instanceof LookupFailedException) {
            // dnsjava names other rcodes only in the message ("Unknown non-success error code REFUSED")
            String m = String.valueOf(t.getMessage());
            return QueryResult.failed(m.contains("REFUSED") ? DnsFailure.REFUSED : DnsFailure.OTHER, detail);
        }
        if (t instanceof SocketTimeoutException || t instanceof TimeoutException || isTimeout(t)) {
            return QueryResult.failed(DnsFailure.TIMEOUT, detail);
        }
        if (t instanceof IOException) {
            return QueryResult.failed(DnsFailure.NETWORK, detail);
        }
        return QueryResult.failed(DnsFailure.OTHER, detail);
    }

    /**
     * dnsjava 3.6's {@code ExtendedResolver} reports its own timeout as a plain {@code IOException} "Timed out while
     * trying to resolve ..." (a single {@code SimpleResolver} throws {@code SocketTimeoutException}).
     */
    private static boolean isTimeout(Throwable t) {
        return t instanceof IOException && t.getMessage() != null
                && t.getMessage().regionMatches(true, 0, "Timed out", 0, 9);
    }
}
