package org.backstopmx.smtpin.spf;

import java.net.IDN;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Pattern;
import org.apache.james.jspf.core.DNSServiceEnabled;
import org.apache.james.jspf.core.MacroExpand;
import org.apache.james.jspf.core.MacroExpandEnabled;
import org.apache.james.jspf.core.SPFCheckEnabled;
import org.apache.james.jspf.executor.SPFResult;
import org.apache.james.jspf.executor.SynchronousSPFExecutor;
import org.apache.james.jspf.impl.DefaultTermsFactory;
import org.apache.james.jspf.impl.SPF;
import org.apache.james.jspf.parser.RFC4408SPF1Parser;
import org.apache.james.jspf.wiring.WiringServiceTable;
import org.backstopmx.core.SpfResult;
import org.backstopmx.core.config.DnsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SPF check (RFC 7208) of one MAIL FROM, with Apache James' jSPF: the {@code mailfrom} identity, or for the null
 * sender the {@code helo} identity ({@code postmaster@<helo>}, §2.4). Its DNS is {@link SpfDns}: the configured
 * resolver, {@code dns.timeout} per query, the lookup and void-lookup limits, and at most {@link #TIME_LIMIT} for the
 * whole check.
 *
 * <p>{@link #check} blocks its caller until the result is in; it never throws for what DNS or the record says (a
 * broken record is permerror, DNS trouble temperror). An identity whose domain is not a fully qualified name (an
 * address literal as HELO, a single label) is {@code none} without a query (§4.3). Thread-safe: one instance for all
 * sessions.
 */
public final class SpfCheck {
    private static final Logger LOG = LoggerFactory.getLogger(SpfCheck.class);
    /** RFC 7208 §4.6.4: an overall limit, if any, of at least 20 seconds. */
    static final Duration TIME_LIMIT = Duration.ofSeconds(20);
    /** Two labels or more, letters, digits, hyphens and underscores (which SPF-using domains do have). */
    private static final Pattern DOMAIN = Pattern.compile(
            "(?i)(?=.{1,253}\\.?$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.?");

    private final SpfDns dns;
    private final SPF spf;

    public SpfCheck(DnsConfig config) {
        this.dns = new SpfDns(config);
        // SPF(DNSService) would pick jSPF's asynchronous executor, which drops NXDOMAIN answers on the floor; the
        // synchronous one needs the wiring that constructor does, made here by hand
        WiringServiceTable wiring = new WiringServiceTable();
        wiring.put(DNSServiceEnabled.class, dns);
        MacroExpand macros = new MacroExpand(dns);
        wiring.put(MacroExpandEnabled.class, macros);
        this.spf = new SPF(dns, new RFC4408SPF1Parser(new DefaultTermsFactory(wiring)), macros,
                new SynchronousSPFExecutor(dns));
        wiring.put(SPFCheckEnabled.class, spf);
    }

    /**
     * Checks whether {@code client} may send for {@code sender}.
     *
     * @param sender the envelope sender as given (UTF-8 local parts included), empty for the null sender
     * @param helo   the name from HELO/EHLO, possibly empty
     */
    public SpfVerdict check(InetAddress client, String sender, String helo) {
        boolean nullSender = sender.isEmpty();
        String identity = nullSender ? SpfVerdict.HELO : SpfVerdict.MAILFROM;
        String domain = ascii(nullSender ? helo : sender.substring(sender.lastIndexOf('@') + 1));
        if (domain == null || !DOMAIN.matcher(domain).matches()) {
            return new SpfVerdict(SpfResult.NONE, identity, client, sender, helo,
                    domain == null ? (nullSender ? helo : sender) : domain, "no domain to check");
        }
        SpfDns.Check used = dns.begin(System.nanoTime() + TIME_LIMIT.toNanos());
        try {
            String mailFrom = nullSender ? "" : sender.substring(0, sender.lastIndexOf('@') + 1) + domain;
            SPFResult r = spf.checkSPF(client.getHostAddress(), mailFrom,
                    nullSender || helo == null || helo.isEmpty() ? domain : helo);
            SpfResult result = used.overVoidLimit() ? SpfResult.PERMERROR : parse(r.getResult());
            String why = used.overVoidLimit() ? "more than " + SpfDns.VOID_LOOKUP_LIMIT + " void lookups"
                    : r.getExplanation();
            return new SpfVerdict(result, identity, client, sender, helo, domain.toLowerCase(Locale.ROOT), why);
        } catch (RuntimeException e) {
            // jSPF's own failure (JSPF-110 and the like), not the sender's: as if DNS had failed
            LOG.warn("SPF check of {} from [{}] failed: {}", domain, client.getHostAddress(), e.toString());
            return new SpfVerdict(SpfResult.TEMPERROR, identity, client, sender, helo, domain, "check failed");
        } finally {
            dns.end();
        }
    }

    /**
     * An internationalized domain as its A-labels (RFC 5890), which is how DNS knows it; null when it has none.
     * XXX: the local part of a UTF-8 sender reaches the macros as James's ASCII stand-in.
     */
    private static String ascii(String domain) {
        if (domain == null) {
            return null;
        }
        try {
            return IDN.toASCII(domain, IDN.ALLOW_UNASSIGNED);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static SpfResult parse(String jspf) {
        if (jspf == null || jspf.isEmpty()) {
            return SpfResult.NEUTRAL; // what jSPF itself falls back to
        }
        try {
            return SpfResult.of(jspf);
        } catch (IllegalArgumentException e) {
            return SpfResult.NEUTRAL;
        }
    }
}
