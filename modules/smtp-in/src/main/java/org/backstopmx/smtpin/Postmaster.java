package org.backstopmx.smtpin;

import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code RCPT TO:<Postmaster>}: RFC 5321 §4.5.1 reserves the mailbox "Postmaster", without a domain and in any case,
 * and requires a server to accept it. James would make it {@code postmaster@localhost}, which relay control refuses.
 * It is rewritten to {@code smtp.postmaster} before James parses it, so it then passes relay control and the
 * recipient list of that address's domain like any other recipient; {@code postmaster@} a domain we do not serve is
 * untouched and still refused.
 */
final class Postmaster {
    private static final Pattern BARE = Pattern.compile("(TO:\\s*)<postmaster>(\\s.*)?",
            Pattern.CASE_INSENSITIVE | Pattern.DOTALL);

    private Postmaster() {
    }

    /**
     * The address {@code <Postmaster>} goes to: {@code configured} when set, else {@code postmaster@} the served
     * domain {@code hostname} is in (the longest that matches), else the first served domain in alphabetical order;
     * null when nothing is served.
     */
    static String resolve(String configured, String hostname, Set<String> servedDomains) {
        if (configured != null) {
            return configured;
        }
        String host = hostname == null ? "" : hostname.toLowerCase(Locale.ROOT);
        String best = null;
        for (String d : new TreeSet<>(servedDomains)) {
            if ((host.equals(d) || host.endsWith("." + d)) && (best == null || d.length() > best.length())) {
                best = d;
            }
        }
        if (best == null && !servedDomains.isEmpty()) {
            best = new TreeSet<>(servedDomains).first();
        }
        return best == null ? null : "postmaster@" + best;
    }

    /** The RCPT argument with a bare {@code <Postmaster>} replaced by {@code <address>}; any other one unchanged. */
    static String rewrite(String argument, String address) {
        if (argument == null || address == null) {
            return argument;
        }
        Matcher m = BARE.matcher(argument.trim());
        if (!m.matches()) {
            return argument;
        }
        return m.group(1) + "<" + address + ">" + (m.group(2) == null ? "" : m.group(2));
    }
}
