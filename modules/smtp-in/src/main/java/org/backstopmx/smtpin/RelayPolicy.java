package org.backstopmx.smtpin;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Decides whether a recipient address may be accepted at all: only plain {@code local@domain} addresses at a served
 * domain. Everything a relay tester tries is refused with 550 5.7.1 (RFC 5321 §3.6: a server that is not the final
 * destination must not relay; Postfix's {@code reject_unauth_destination} and its {@code %}/{@code !} rules are the
 * model):
 * <ul>
 *   <li>domains that are not served, compared case-insensitively and exactly (no subdomains, no suffix tricks);</li>
 *   <li>a trailing dot on the domain ({@code user@example.org.}), IP literals ({@code user@[192.0.2.1]});</li>
 *   <li>the percent hack ({@code user%other@example.org}), bang paths ({@code other!user@example.org}), any further
 *       {@code @}, and quoted local parts ({@code "user@other"@example.org}): anything that is not a dot-atom of
 *       RFC 5322 {@code atext} without {@code %} and {@code !}.</li>
 * </ul>
 * Source routes ({@code @a:user@b}) never get this far: James refuses them as syntax errors.
 */
public final class RelayPolicy {
    // RFC 5322 atext without '%' and '!' (with RFC 6532's UTF-8 beyond ASCII), plus dots between atoms
    private static final Pattern LOCAL_PART = Pattern.compile(
            "[A-Za-z0-9#$&'*+/=?^_`{|}~\\x{80}-\\x{10FFFF}-]+(\\.[A-Za-z0-9#$&'*+/=?^_`{|}~\\x{80}-\\x{10FFFF}-]+)*");
    private static final Pattern DOMAIN =
            Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+");

    private final RecipientDirectory directory;
    private final String postmaster;

    /** @param postmaster where {@code RCPT TO:<Postmaster>} goes ({@link Postmaster#resolve}), or null */
    public RelayPolicy(RecipientDirectory directory, String postmaster) {
        this.directory = directory;
        this.postmaster = postmaster;
    }

    public RecipientDirectory directory() {
        return directory;
    }

    /** Where {@code RCPT TO:<Postmaster>} goes, or null. */
    public String postmaster() {
        return postmaster;
    }

    /** The verdict for a recipient given as local part and domain (as James parsed them). */
    public RecipientDirectory.Verdict check(String localPart, String domain) {
        if (localPart == null || domain == null || localPart.length() > 64) {
            return RecipientDirectory.Verdict.RELAY_DENIED;
        }
        String d = domain.toLowerCase(Locale.ROOT);
        if (!DOMAIN.matcher(d).matches() || !directory.serves(d)) {
            return RecipientDirectory.Verdict.RELAY_DENIED;
        }
        if (!LOCAL_PART.matcher(localPart).matches()) {
            return RecipientDirectory.Verdict.RELAY_DENIED;
        }
        return directory.lookup(localPart, d);
    }
}
