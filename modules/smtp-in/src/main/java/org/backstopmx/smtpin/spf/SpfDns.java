package org.backstopmx.smtpin.spf;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.james.jspf.core.DNSRequest;
import org.apache.james.jspf.core.DNSService;
import org.apache.james.jspf.core.exceptions.TimeoutException;
import org.apache.james.jspf.impl.DNSServiceXBillImpl;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.core.config.HostPort;
import org.xbill.DNS.Cache;
import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Lookup;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * jSPF's DNS, through {@code dns.server} (or the system's resolvers) with {@code dns.timeout} per query, a cache of
 * its own (not dnsjava's process-wide default, which other parts of the appliance use) and no search path: every name
 * is asked as given, absolute. It adds what jSPF 1.0.4 lacks of RFC 7208:
 * <ul>
 *   <li>no queries of the obsolete SPF RR type (§3.1, §14.1): they are answered empty at once, so jSPF goes on to
 *       TXT;</li>
 *   <li>the void lookup limit (§4.6.4): the lookups of one check that come back NXDOMAIN or empty are counted
 *       ({@link Check#voidLookups}); past {@value #VOID_LOOKUP_LIMIT} the check is a permerror, and no further
 *       query is sent;</li>
 *   <li>an overall limit on the time of one check ({@link Check#deadline}, §4.6.4 asks for at least 20 seconds):
 *       a query that would start after it fails as a timeout, a temperror.</li>
 * </ul>
 * A timeout, SERVFAIL or a network error is jSPF's {@link TimeoutException}, which it turns into temperror. jSPF
 * keeps its own limit of ten DNS-querying terms per check and of ten MX or PTR records per term.
 *
 * <p>The synchronous executor runs a whole check on its caller's thread, so what one check has used is kept per
 * thread ({@link #begin}, {@link #end}). Thread-safe.
 */
final class SpfDns implements DNSService {
    /** RFC 7208 §4.6.4: more than two void lookups is a permerror. */
    static final int VOID_LOOKUP_LIMIT = 2;

    private final Resolver resolver;
    private final Cache cache = new Cache(DClass.IN);
    private final ThreadLocal<Check> current = new ThreadLocal<>();
    private int recordLimit = 10;

    /** What one check has used so far. */
    static final class Check {
        final long deadline;
        int voidLookups;

        Check(long deadline) {
            this.deadline = deadline;
        }

        boolean overVoidLimit() {
            return voidLookups > VOID_LOOKUP_LIMIT;
        }
    }

    SpfDns(DnsConfig dns) {
        this.resolver = resolver(dns.server(), dns.timeout());
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

    /** Starts counting for a check on this thread, which must end by {@code deadline} ({@link System#nanoTime}). */
    Check begin(long deadline) {
        Check c = new Check(deadline);
        current.set(c);
        return c;
    }

    void end() {
        current.remove();
    }

    @Override
    public List<String> getRecords(DNSRequest request) throws TimeoutException {
        int type;
        switch (request.getRecordType()) {
            case DNSRequest.A -> type = Type.A;
            case DNSRequest.AAAA -> type = Type.AAAA;
            case DNSRequest.MX -> type = Type.MX;
            case DNSRequest.PTR -> type = Type.PTR;
            case DNSRequest.TXT -> type = Type.TXT;
            default -> {
                return null; // the SPF RR type: obsolete, never asked
            }
        }
        Check check = current.get();
        if (check != null && check.overVoidLimit()) {
            return null; // the result is permerror already; jSPF is only unwinding
        }
        if (check != null && System.nanoTime() - check.deadline > 0) {
            throw new TimeoutException("the SPF check took longer than its limit");
        }
        Lookup lookup;
        try {
            lookup = new Lookup(Name.fromString(request.getHostname(), Name.root), type, DClass.IN);
        } catch (TextParseException e) {
            countVoid(check);
            return null;
        }
        lookup.setResolver(resolver);
        lookup.setCache(cache);
        lookup.setSearchPath((Name[]) null);
        Record[] records = lookup.run();
        switch (lookup.getResult()) {
            case Lookup.SUCCESSFUL -> {
                List<String> values = DNSServiceXBillImpl.convertRecordsToList(records);
                if (values == null || values.isEmpty()) {
                    countVoid(check);
                }
                return values;
            }
            case Lookup.HOST_NOT_FOUND, Lookup.TYPE_NOT_FOUND -> {
                countVoid(check);
                return null;
            }
            default -> throw new TimeoutException(lookup.getErrorString()); // TRY_AGAIN, UNRECOVERABLE
        }
    }

    private static void countVoid(Check check) {
        if (check != null) {
            check.voidLookups++;
        }
    }

    @Override
    public CompletionStage<List<String>> getRecordsAsync(DNSRequest request) {
        try {
            return CompletableFuture.completedFuture(getRecords(request));
        } catch (TimeoutException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** The timeout is {@code dns.timeout}, set at construction; jSPF's own setting is ignored. */
    @Override
    public void setTimeOut(int timeOut) {
        // dns.timeout rules
    }

    /** Only used for the {@code %{r}} macro, which RFC 7208 §7.3 lets us fill with "unknown". */
    @Override
    public List<String> getLocalDomainNames() {
        return List.of();
    }

    @Override
    public synchronized int getRecordLimit() {
        return recordLimit;
    }

    @Override
    public synchronized void setRecordLimit(int limit) {
        this.recordLimit = limit;
    }
}
