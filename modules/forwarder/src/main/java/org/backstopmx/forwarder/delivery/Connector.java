package org.backstopmx.forwarder.delivery;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.SmtpStage;
import org.backstopmx.forwarder.AddressAnswer;
import org.backstopmx.forwarder.DaneGate;
import org.backstopmx.forwarder.FailurePolicy;
import org.backstopmx.forwarder.MxResolver;
import org.backstopmx.forwarder.Route;
import org.backstopmx.forwarder.RouteResolver;
import org.backstopmx.forwarder.smtp.RelayClient;
import org.backstopmx.forwarder.smtp.RelaySettings;
import org.backstopmx.forwarder.smtp.SessionFailure;
import org.backstopmx.forwarder.smtp.TlsPolicy;
import org.backstopmx.forwarder.sts.MtaSts;

/**
 * Opens an SMTP session to a domain's destination: resolves the route, then tries its hosts in order and each host's
 * addresses in turn (at most {@value #MAX_ADDRESSES} addresses in all, like Postfix's {@code smtp_mx_address_limit}),
 * until one greets and answers EHLO; what a served domain's primary offered is noted ({@link LearnedCapabilities}).
 * At {@code tls: dane} each host's session level comes from its DNSSEC-validated TLSA records ({@link DaneGate}); a
 * host DANE refuses is not contacted. Also the health probe: the same, then QUIT.
 */
final class Connector {
    /** Addresses tried at most per session attempt, over all hosts of the route. */
    static final int MAX_ADDRESSES = 5;

    /** What an attempt to open a session came to. */
    sealed interface Opened {
    }

    /** A session ready for mail. */
    record Session(RelayClient client) implements Opened {
    }

    /**
     * No session.
     *
     * @param outcome       what every recipient gets: transient (no route yet, nobody answered) or permanent (the
     *                      route says the domain takes no mail)
     * @param contactedHost true when at least one host was tried and failed (refused, timed out, 4xx greeting): the
     *                      destination is down; false when DNS alone stopped us (the destination is not to blame)
     */
    record Refused(DeliveryOutcome outcome, boolean contactedHost) implements Opened {
    }

    private final RouteResolver routes;
    private final MxResolver dns;
    private final LearnedCapabilities learned;
    /** Replaced when the per-domain STARTTLS policies are reloaded ({@link #domainTls}). */
    private volatile ForwarderSettings settings;

    /** Told each session's STARTTLS outcome (for the metric). */
    interface TlsSeen {
        void seen(String domain, TlsPolicy level, String result);
    }

    private final TlsSeen tlsSeen;
    /** The policies of the {@code mta-sts} level. */
    private final MtaSts mtaSts;

    Connector(RouteResolver routes, MxResolver dns, ForwarderSettings settings, LearnedCapabilities learned,
            MtaSts mtaSts) {
        this(routes, dns, settings, learned, (domain, level, result) -> { }, mtaSts);
    }

    Connector(RouteResolver routes, MxResolver dns, ForwarderSettings settings, LearnedCapabilities learned,
            TlsSeen tlsSeen, MtaSts mtaSts) {
        this.tlsSeen = Objects.requireNonNull(tlsSeen, "tlsSeen");
        this.mtaSts = Objects.requireNonNull(mtaSts, "mtaSts");
        this.routes = Objects.requireNonNull(routes, "routes");
        this.dns = Objects.requireNonNull(dns, "dns");
        this.learned = Objects.requireNonNull(learned, "learned");
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    /** Takes these per-domain STARTTLS policies for the sessions opened from now on (a configuration reload). */
    void domainTls(java.util.Map<String, org.backstopmx.forwarder.smtp.TlsPolicy> policies) {
        settings = settings.withDomainTls(policies);
    }

    Opened open(String domain) {
        Route route = routes.resolve(domain);
        if (route instanceof Route.Defer d) {
            return new Refused(FailurePolicy.routeDeferred(d), false);
        }
        if (route instanceof Route.Fail f) {
            return new Refused(FailurePolicy.routeFailed(f), false);
        }
        List<Route.Destination> destinations = ((Route.Destinations) route).destinations();
        DeliveryOutcome last = null;
        boolean contacted = false;
        int tried = 0;
        List<String> dnsProblems = new ArrayList<>();
        ForwarderSettings now = settings;
        TlsPolicy level = now.relaySettings(domain).tlsPolicy();
        DaneGate dane = level == TlsPolicy.DANE ? new DaneGate(now.dnssec()) : null;
        DaneGate.Plan danePlan = dane == null ? null : dane.plan(domain, routes.hasConfiguredRoute(domain));
        for (Route.Destination d : destinations) {
            RelaySettings relay = now.relaySettings(domain);
            if (dane != null) {
                DaneGate.ForHost verdict = dane.forHost(danePlan, d);
                if (verdict instanceof DaneGate.Refuse r) {
                    // RFC 7672 §2.1.1: the host is treated as unreachable; the next one may still do
                    tlsSeen.seen(domain, level, r.failure().label());
                    last = FailurePolicy.sessionFailed(d.host(), new SessionFailure(null, SmtpStage.STARTTLS,
                            "TLS " + r.failure().label() + ": " + r.detail()));
                    continue;
                }
                relay = verdict.apply(relay);
            }
            List<InetAddress> addresses = addresses(d, dnsProblems);
            for (InetAddress address : addresses) {
                if (tried++ >= MAX_ADDRESSES) {
                    break;
                }
                RelayClient client = relay.tlsPolicy() == TlsPolicy.MTA_STS
                        ? mtaSts.open(domain, d.host(), address, d.port(), relay,
                                result -> tlsSeen.seen(domain, TlsPolicy.MTA_STS, result))
                        : RelayClient.open(d.host(), address, d.port(), relay);
                if (client.isOpen() || client.tlsFailure().isPresent()) {
                    tlsSeen.seen(domain, level, client.tlsResult());
                }
                if (client.isOpen()) {
                    if (routes.isServed(domain)) {
                        learned.learned(domain, client.host(), client.capabilities());
                    }
                    return new Session(client);
                }
                contacted = true;
                last = FailurePolicy.sessionFailed(client.host(), client.failure().orElseThrow());
                client.close();
            }
        }
        if (last != null) {
            return new Refused(last, contacted);
        }
        String why = dnsProblems.isEmpty() ? "no address for " + destinations : String.join("; ", dnsProblems);
        return new Refused(FailurePolicy.noAddress(why), false);
    }

    /**
     * What a probe found.
     *
     * @param host    the host that answered, or null
     * @param failure what failed, or null when a host answered
     */
    record Knock(String host, DeliveryOutcome failure) {
        boolean answered() {
            return failure == null;
        }
    }

    /** Whether the destination of {@code domain} answers, and which host: a session is opened and closed with QUIT. */
    Knock knock(String domain) {
        Opened opened = open(domain);
        if (opened instanceof Session s) {
            String host = s.client().host();
            s.client().close();
            return new Knock(host, null);
        }
        return new Knock(null, ((Refused) opened).outcome());
    }

    /**
     * Whether the destination of {@code domain} answers: a session is opened and closed with QUIT.
     *
     * @return empty when it answered; otherwise what failed
     */
    java.util.Optional<DeliveryOutcome> probe(String domain) {
        return java.util.Optional.ofNullable(knock(domain).failure());
    }

    /** The addresses the route gives for {@code domain}'s destinations, for ETRN's "is this our primary?". */
    List<InetAddress> primaryAddresses(String domain) {
        Route route = routes.resolve(domain);
        List<InetAddress> out = new ArrayList<>();
        if (route instanceof Route.Destinations ds) {
            for (Route.Destination d : ds.destinations()) {
                out.addAll(addresses(d, new ArrayList<>()));
            }
        }
        return out;
    }

    private List<InetAddress> addresses(Route.Destination d, List<String> problems) {
        if (!d.needsAddressLookup()) {
            return d.addresses();
        }
        AddressAnswer answer = dns.addresses(d.host());
        if (answer instanceof AddressAnswer.Addresses a) {
            return a.addresses();
        }
        if (answer instanceof AddressAnswer.TemporaryFailure t) {
            problems.add("cannot find the address of " + d.host() + ": " + t.detail());
        } else {
            problems.add(d.host() + " has no address");
        }
        return List.of();
    }
}
