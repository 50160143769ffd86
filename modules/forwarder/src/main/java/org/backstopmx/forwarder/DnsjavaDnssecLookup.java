package org.backstopmx.forwarder;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.forwarder.smtp.TlsaRecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.EDNSOption;
import org.xbill.DNS.ExtendedErrorCodeOption;
import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TLSARecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;
import org.xbill.DNS.dnssec.ValidatingResolver;

/**
 * {@link DnssecLookup} on dnsjava, in one of two ways:
 * <ul>
 *   <li>{@code dns.trust-anchor-file}: dnsjava's {@link ValidatingResolver} checks every signature itself, from the
 *       trust anchors in that file (DS or DNSKEY records), asking {@code dns.server} (or the system's resolver) for
 *       the records and keys. Nothing on the path to the resolver is trusted;</li>
 *   <li>{@code dns.trust-ad: true}: {@code dns.server} validates, and its AD bit (RFC 4035 §3.2.3, asked for as RFC
 *       6840 §5.7 says) is taken as its verdict. Only as safe as the path to it: meant for a validating resolver on
 *       this host (RFC 4033 §4).</li>
 * </ul>
 * A SERVFAIL that carries a DNSSEC Extended DNS Error (RFC 8914 §4.2-4.13; dnsjava's validator and Unbound add one)
 * is {@link DnssecStatus#BOGUS}; any other SERVFAIL, a timeout or a network error is {@link DnssecStatus#FAILED}.
 *
 * <p>No cache: DANE asks once per session attempt, and the resolver behind caches. The clock is the validator's
 * for signature validity periods.
 */
public final class DnsjavaDnssecLookup implements DnssecLookup {
    /** The Extended DNS Error codes that say DNSSEC failed (RFC 8914 §4.2, §4.3, §4.6-4.13). */
    private static final Set<Integer> DNSSEC_ERRORS = Set.of(ExtendedErrorCodeOption.UNSUPPORTED_DNSKEY_ALGORITHM,
            ExtendedErrorCodeOption.UNSUPPORTED_DS_DIGEST_TYPE, ExtendedErrorCodeOption.DNSSEC_INDETERMINATE,
            ExtendedErrorCodeOption.DNSSEC_BOGUS, ExtendedErrorCodeOption.SIGNATURE_EXPIRED,
            ExtendedErrorCodeOption.SIGNATURE_NOT_YET_VALID, ExtendedErrorCodeOption.DNSKEY_MISSING,
            ExtendedErrorCodeOption.RRSIGS_MISSING, ExtendedErrorCodeOption.NO_ZONE_KEY_BIT_SET,
            ExtendedErrorCodeOption.NSEC_MISSING);

    private final Resolver resolver;
    private final boolean askForAd;
    private final Duration bound;

    /**
     * @throws IllegalArgumentException naming the key when neither way is configured or the trust anchors cannot be
     *                                  read
     */
    public DnsjavaDnssecLookup(DnsConfig dns, Clock clock) {
        Objects.requireNonNull(dns, "dns");
        Objects.requireNonNull(clock, "clock");
        if (!dns.validates()) {
            throw new IllegalArgumentException("dns.trust-anchor-file or dns.trust-ad is needed to validate DNSSEC");
        }
        Duration timeout = dns.timeout();
        Resolver head;
        if (dns.server() == null) {
            head = new ExtendedResolver(); // the system's resolvers
        } else {
            InetSocketAddress address = new InetSocketAddress(dns.server().host(), dns.server().port());
            if (address.isUnresolved()) {
                throw new IllegalArgumentException("dns.server: cannot resolve " + dns.server().host());
            }
            head = new SimpleResolver(address);
        }
        head.setTimeout(timeout);
        if (dns.trustAnchorFile() != null) {
            ValidatingResolver validating = new ValidatingResolver(head, clock);
            try (InputStream in = Files.newInputStream(dns.trustAnchorFile())) {
                validating.loadTrustAnchors(in);
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException("dns.trust-anchor-file: " + dns.trustAnchorFile() + ": "
                        + e.getMessage(), e);
            }
            if (validating.getTrustAnchors().items().isEmpty()) {
                throw new IllegalArgumentException("dns.trust-anchor-file: " + dns.trustAnchorFile()
                        + ": no DS or DNSKEY record");
            }
            validating.setTimeout(timeout);
            this.resolver = validating;
            this.askForAd = false;
        } else {
            head.setEDNS(0, 0, ExtendedFlags.DO, List.of()); // RFC 3225: the signatures, for the resolver to check
            this.resolver = head;
            this.askForAd = true;
        }
        // the validator asks for keys and delegations along the way: a few round trips
        this.bound = timeout.multipliedBy(4).plusSeconds(1);
    }

    @Override
    public DnssecAnswer mx(String domain) {
        return ask(domain, Type.MX);
    }

    @Override
    public DnssecAnswer tlsa(String host, int port) {
        return ask("_" + port + "._tcp." + host, Type.TLSA);
    }

    private DnssecAnswer ask(String text, int type) {
        Name name;
        try {
            name = Name.fromString(DomainNames.normalize(text) + ".");
        } catch (TextParseException e) {
            return DnssecAnswer.failed(DnssecStatus.FAILED, "not a domain name: " + text);
        }
        Message query = Message.newQuery(Record.newRecord(name, type, DClass.IN));
        if (askForAd) {
            query.getHeader().setFlag(Flags.AD);
        }
        CompletableFuture<Message> future = resolver.sendAsync(query).toCompletableFuture();
        Message response;
        try {
            response = future.get(bound.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            future.cancel(false);
            return DnssecAnswer.failed(DnssecStatus.FAILED, "interrupted");
        } catch (TimeoutException e) {
            future.cancel(false);
            return DnssecAnswer.failed(DnssecStatus.FAILED, name + " " + Type.string(type) + ": no answer within "
                    + bound.toMillis() + " ms");
        } catch (ExecutionException e) {
            Throwable t = e.getCause() == null ? e : e.getCause();
            return DnssecAnswer.failed(DnssecStatus.FAILED, name + " " + Type.string(type) + ": "
                    + t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage()));
        }
        return judge(name, type, response);
    }

    private static DnssecAnswer judge(Name name, int type, Message response) {
        int rcode = response.getRcode();
        String what = name + " " + Type.string(type) + ": ";
        if (rcode == Rcode.SERVFAIL) {
            String dnssecError = dnssecError(response);
            return dnssecError != null
                    ? DnssecAnswer.failed(DnssecStatus.BOGUS, what + dnssecError)
                    : DnssecAnswer.failed(DnssecStatus.FAILED, what + "SERVFAIL");
        }
        if (rcode != Rcode.NOERROR && rcode != Rcode.NXDOMAIN) {
            return DnssecAnswer.failed(DnssecStatus.FAILED, what + Rcode.string(rcode));
        }
        DnssecStatus status = response.getHeader().getFlag(Flags.AD) ? DnssecStatus.SECURE : DnssecStatus.INSECURE;
        List<TlsaRecord> tlsa = new ArrayList<>();
        for (Record r : response.getSection(Section.ANSWER)) {
            if (r instanceof TLSARecord t) {
                tlsa.add(new TlsaRecord(t.getCertificateUsage(), t.getSelector(), t.getMatchingType(),
                        t.getCertificateAssociationData()));
            }
        }
        return new DnssecAnswer(status, tlsa, "");
    }

    /** The text of a DNSSEC Extended DNS Error in the response, or null when it has none. */
    private static String dnssecError(Message response) {
        OPTRecord opt = response.getOPT();
        if (opt == null) {
            return null;
        }
        for (EDNSOption o : opt.getOptions(EDNSOption.Code.EDNS_EXTENDED_ERROR)) {
            if (o instanceof ExtendedErrorCodeOption ede && DNSSEC_ERRORS.contains(ede.getErrorCode())) {
                String text = ede.getText();
                return ExtendedErrorCodeOption.text(ede.getErrorCode()) + (text == null ? "" : ": " + text);
            }
        }
        return null;
    }
}
