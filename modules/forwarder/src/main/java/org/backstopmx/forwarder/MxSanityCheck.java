package org.backstopmx.forwarder;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import org.backstopmx.core.config.BackstopConfig;

/**
 * Whether a served domain's DNS makes Backstop its backup MX, asked through the configured resolver: our
 * {@code hostname} or a {@code self-names} entry is among the domain's MX hosts, it is not the most preferred one (the
 * primary is), every more preferred host resolves, and no other host shares our preference (two backups at one
 * preference never hand mail to each other: RFC 5321 §5.1). A domain that fails is not refused: its mail still comes
 * and waits, so the operator is told (a WARN line and {@code backstop_mx_config_ok}) and can fix the zone.
 */
public final class MxSanityCheck {
    /** Why a domain's MX set is, or is not, what a backup MX needs: a closed set, used as a metric label. */
    public enum Verdict {
        OK("ok"),
        /** Neither our hostname nor a self-name is an MX host of the domain: senders never come to us. */
        NOT_LISTED("not_listed"),
        /** We are (one of) the most preferred MX hosts: senders come to us first, not to the primary. */
        MOST_PREFERRED("most_preferred"),
        /** A host more preferred than us has no address: the primary cannot be reached by name. */
        PRIMARY_UNRESOLVABLE("primary_unresolvable"),
        /** Another host shares our preference. */
        SHARED_PREFERENCE("shared_preference"),
        /** No MX records at all (none, null MX, or the domain does not exist). */
        NO_MX("no_mx"),
        /** DNS did not answer this time. */
        DNS_ERROR("dns_error");

        private final String label;

        Verdict(String label) {
            this.label = label;
        }

        /** The metric label value. */
        public String label() {
            return label;
        }
    }

    /** The verdict on one domain, with what an operator needs to fix it. */
    public record Result(String domain, Verdict verdict, String detail) {
        public boolean ok() {
            return verdict == Verdict.OK;
        }
    }

    private final Set<String> selfNames;
    private final MxResolver dns;

    /** @param selfNames our own names (hostname and self-names), in any case */
    public MxSanityCheck(Set<String> selfNames, MxResolver dns) {
        this.selfNames = new HashSet<>();
        selfNames.forEach(n -> this.selfNames.add(DomainNames.normalize(n)));
        this.dns = Objects.requireNonNull(dns, "dns");
    }

    /** The check for {@code config}'s {@code hostname} and {@code self-names}. */
    public static MxSanityCheck of(BackstopConfig config, MxResolver dns) {
        Set<String> names = new HashSet<>(config.selfNames());
        names.add(config.hostname());
        return new MxSanityCheck(names, dns);
    }

    /** Checks every domain, in order. */
    public List<Result> checkAll(Iterable<String> domains) {
        List<Result> results = new ArrayList<>();
        domains.forEach(d -> results.add(check(d)));
        return results;
    }

    public Result check(String domain) {
        String name = DomainNames.normalize(domain);
        MxAnswer answer = dns.mx(name);
        if (answer instanceof MxAnswer.TemporaryFailure t) {
            return new Result(name, Verdict.DNS_ERROR, "MX lookup failed: " + t.failure() + " (" + t.detail() + ")");
        }
        if (!(answer instanceof MxAnswer.Records records)) {
            String what = answer instanceof MxAnswer.NullMx ? "a null MX" : answer instanceof MxAnswer.NxDomain
                    ? "no such domain (NXDOMAIN)" : "no MX records";
            return new Result(name, Verdict.NO_MX, name + " has " + what + "; publish the primary and us as MX hosts");
        }
        int own = Integer.MAX_VALUE;
        int best = Integer.MAX_VALUE;
        for (MxRecord mx : records.records()) {
            best = Math.min(best, mx.preference());
            if (selfNames.contains(mx.host())) {
                own = Math.min(own, mx.preference());
            }
        }
        if (own == Integer.MAX_VALUE) {
            return new Result(name, Verdict.NOT_LISTED, "none of " + sorted(selfNames) + " is among the MX hosts "
                    + describe(records.records()) + "; add us with a higher preference than the primary's");
        }
        if (own == best) {
            return new Result(name, Verdict.MOST_PREFERRED, "we are MX " + own + ", the most preferred, in "
                    + describe(records.records()) + "; the primary needs a lower preference than ours");
        }
        for (MxRecord mx : records.records()) {
            if (mx.preference() == own && !selfNames.contains(mx.host())) {
                return new Result(name, Verdict.SHARED_PREFERENCE, mx.host() + " shares our preference " + own
                        + " in " + describe(records.records()) + "; backups at one preference never forward to each"
                        + " other, so give each its own");
            }
        }
        for (MxRecord mx : records.records()) {
            if (mx.preference() < own) {
                AddressAnswer a = dns.addresses(mx.host());
                if (a instanceof AddressAnswer.TemporaryFailure t) {
                    return new Result(name, Verdict.DNS_ERROR, "address lookup for " + mx.host() + " failed: "
                            + t.failure() + " (" + t.detail() + ")");
                }
                if (!(a instanceof AddressAnswer.Addresses)) {
                    return new Result(name, Verdict.PRIMARY_UNRESOLVABLE, "the primary " + mx.host() + " (MX "
                            + mx.preference() + ") has no address record");
                }
            }
        }
        return new Result(name, Verdict.OK, "MX " + describe(records.records()) + ", we are MX " + own);
    }

    private static String describe(List<MxRecord> records) {
        List<MxRecord> sorted = new ArrayList<>(records);
        sorted.sort((a, b) -> a.preference() != b.preference() ? Integer.compare(a.preference(), b.preference())
                : a.host().compareTo(b.host()));
        List<String> parts = new ArrayList<>();
        sorted.forEach(mx -> parts.add(mx.preference() + " " + mx.host()));
        return "[" + String.join(", ", parts) + "]";
    }

    private static String sorted(Set<String> names) {
        List<String> list = new ArrayList<>(names);
        list.sort(String::compareTo);
        return String.join(", ", list).toLowerCase(Locale.ROOT);
    }
}
