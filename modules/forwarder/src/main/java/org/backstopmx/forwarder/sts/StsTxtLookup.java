package org.backstopmx.forwarder.sts;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.forwarder.DnsjavaMxResolver;
import org.backstopmx.forwarder.DomainNames;
import org.xbill.DNS.Cache;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;
import org.xbill.DNS.lookup.LookupSession;
import org.xbill.DNS.lookup.NoSuchDomainException;
import org.xbill.DNS.lookup.NoSuchRRSetException;

/**
 * Looks up {@code _mta-sts.<domain>} TXT through the configured resolver ({@code dns.server}, {@code dns.timeout};
 * the same resolver set-up as {@link DnsjavaMxResolver}, with a cache of its own that keeps answers for their TTL).
 */
public class StsTxtLookup {
    /** What the lookup found. */
    public sealed interface Answer {
    }

    /** One valid STS record with this policy id. */
    public record Found(String id) implements Answer {
    }

    /** NXDOMAIN, no TXT records, or none usable (§3.1): the domain publishes no policy now. */
    public record Absent() implements Answer {
    }

    /** SERVFAIL, a timeout, a network error: we do not know. */
    public record Failed(String detail) implements Answer {
    }

    private final LookupSession session;
    private final Duration bound;

    public StsTxtLookup(DnsConfig dns) {
        Objects.requireNonNull(dns, "dns");
        this.session = LookupSession.builder().resolver(DnsjavaMxResolver.resolver(dns.server(), dns.timeout()))
                .cache(new Cache()).build();
        this.bound = dns.timeout().multipliedBy(2).plusSeconds(1);
    }

    /** The STS record of {@code domain}; never throws for what DNS answers. */
    public Answer lookup(String domain) {
        Name name;
        try {
            name = Name.fromString("_mta-sts." + DomainNames.normalize(domain) + ".");
        } catch (TextParseException e) {
            return new Absent();
        }
        try {
            List<String> txts = new ArrayList<>();
            for (Record r : session.lookupAsync(name, Type.TXT).toCompletableFuture()
                    .get(bound.toMillis(), TimeUnit.MILLISECONDS).getRecords()) {
                if (r instanceof TXTRecord txt) {
                    txts.add(String.join("", txt.getStrings())); // §3.1: the strings of one record are concatenated
                }
            }
            return StsRecord.id(txts).<Answer>map(Found::new).orElseGet(Absent::new);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof NoSuchDomainException || cause instanceof NoSuchRRSetException) {
                return new Absent();
            }
            return new Failed(String.valueOf(cause));
        } catch (TimeoutException e) {
            return new Failed("no answer within " + bound.toMillis() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Failed("interrupted");
        }
    }
}
