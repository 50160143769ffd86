package org.backstopmx.forwarder;

import java.util.List;
import java.util.Objects;
import org.backstopmx.forwarder.smtp.RelaySettings;
import org.backstopmx.forwarder.smtp.TlsFailure;
import org.backstopmx.forwarder.smtp.TlsPolicy;
import org.backstopmx.forwarder.smtp.TlsaRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code tls: dane} means for one session attempt (RFC 7672 §2): the MX answer first, then each host's TLSA
 * records, both looked up with DNSSEC validation ({@link DnssecLookup}).
 *
 * <table>
 *   <caption>per host, from the MX and the TLSA answer</caption>
 *   <tr><th>answer</th><th>session</th></tr>
 *   <tr><td>MX or TLSA bogus</td><td>none: deferred, {@code dane-bogus}</td></tr>
 *   <tr><td>MX or TLSA lookup failed</td><td>none: deferred, {@code dane-lookup-failed} (§2.1.1: the host counts as
 *       unreachable)</td></tr>
 *   <tr><td>MX or TLSA insecure, or a secure answer without TLSA records</td><td>opportunistic (§2.2: DANE does not
 *       apply)</td></tr>
 *   <tr><td>TLSA records, none usable (only PKIX-TA/EE, unknown parameters)</td><td>TLS required, not
 *       authenticated (§2.2, §3.1.3)</td></tr>
 *   <tr><td>usable TLSA records</td><td>{@link TlsPolicy#DANE} with them; no match defers, {@code dane-mismatch}</td></tr>
 * </table>
 *
 * <p>A configured route ({@code domains.<name>.route}, {@code routes}) has no MX answer to trust: its host name is the
 * operator's, so only its TLSA answer counts (as Postfix does for a {@code [host]:port} next hop). An address
 * literal has no TLSA records: opportunistic.
 *
 * <p>XXX: the MX answer is asked again here, beside the route's own lookup; a zone changed in between is seen by one
 * and not the other until the next attempt. CNAMEs of MX hosts (§2.2.2) are not followed for the TLSA base name.
 */
public final class DaneGate {
    private static final Logger log = LoggerFactory.getLogger(DaneGate.class);

    private final DnssecLookup dns;

    public DaneGate(DnssecLookup dns) {
        this.dns = Objects.requireNonNull(dns, "dns");
    }

    /** Whether the MX answer of a domain can carry DANE. */
    public record Plan(String domain, DnssecAnswer mx) {
    }

    /** What DANE says about one host of the route. */
    public sealed interface ForHost {
        /** The settings for the session to this host. */
        RelaySettings apply(RelaySettings base);
    }

    /** Authenticate the host by these usable records. */
    public record Authenticate(List<TlsaRecord> records) implements ForHost {
        @Override
        public RelaySettings apply(RelaySettings base) {
            return new RelaySettings(base.heloName(), base.timeouts(), TlsPolicy.DANE,
                    base.tlsTrust().withTlsa(records));
        }
    }

    /** DANE does not apply to this host: the session is at {@code level} ({@code opportunistic} or {@code required}). */
    public record Lower(TlsPolicy level, String why) implements ForHost {
        @Override
        public RelaySettings apply(RelaySettings base) {
            return new RelaySettings(base.heloName(), base.timeouts(), level, base.tlsTrust());
        }
    }

    /** No session to this host: deferred with this TLS reason. */
    public record Refuse(TlsFailure failure, String detail) implements ForHost {
        @Override
        public RelaySettings apply(RelaySettings base) {
            throw new IllegalStateException("no session: " + detail);
        }
    }

    /** The MX answer of {@code domain}; a configured route or an address literal asks nothing. */
    public Plan plan(String domain, boolean configuredRoute) {
        if (configuredRoute) {
            return new Plan(domain, DnssecAnswer.of(DnssecStatus.SECURE));
        }
        if (AddressLiterals.parseDomainLiteral(DomainNames.normalize(domain)).isPresent()) {
            return new Plan(domain, DnssecAnswer.of(DnssecStatus.INSECURE));
        }
        return new Plan(domain, dns.mx(domain));
    }

    /** What DANE says about {@code destination}, one host of the route {@code plan} was made for. */
    public ForHost forHost(Plan plan, Route.Destination destination) {
        String host = destination.host();
        ForHost mx = judge(plan.mx(), "MX of " + plan.domain(), "the MX answer of " + plan.domain() + " is not signed");
        if (mx != null) {
            return logged(host, mx);
        }
        if (AddressLiterals.parse(host).isPresent()) {
            return logged(host, new Lower(TlsPolicy.OPPORTUNISTIC, "an address has no TLSA records"));
        }
        DnssecAnswer tlsa = dns.tlsa(host, destination.port());
        String base = "_" + destination.port() + "._tcp." + host;
        ForHost judged = judge(tlsa, "TLSA " + base, "the TLSA answer for " + base + " is not signed");
        if (judged != null) {
            return logged(host, judged);
        }
        if (tlsa.tlsa().isEmpty()) {
            return logged(host, new Lower(TlsPolicy.OPPORTUNISTIC, "no TLSA records at " + base));
        }
        List<TlsaRecord> usable = tlsa.tlsa().stream().filter(TlsaRecord::usable).toList();
        if (usable.isEmpty()) {
            return logged(host, new Lower(TlsPolicy.REQUIRED, "no usable TLSA record at " + base + " " + tlsa.tlsa()));
        }
        return new Authenticate(usable);
    }

    /** Null for a secure answer; else what it means for the host. */
    private static ForHost judge(DnssecAnswer answer, String what, String insecure) {
        return switch (answer.status()) {
            case SECURE -> null;
            case INSECURE -> new Lower(TlsPolicy.OPPORTUNISTIC, insecure);
            case BOGUS -> new Refuse(TlsFailure.DANE_BOGUS, what + " is bogus: " + answer.detail());
            case FAILED -> new Refuse(TlsFailure.DANE_LOOKUP_FAILED, what + " not known: " + answer.detail());
        };
    }

    private static ForHost logged(String host, ForHost verdict) {
        if (verdict instanceof Lower l) {
            log.debug("{}: DANE does not apply ({}): {}", host, l.why(), l.level());
        } else if (verdict instanceof Refuse r) {
            log.info("{}: not contacted, TLS {}: {}", host, r.failure().label(), r.detail());
        }
        return verdict;
    }
}
