package org.backstopmx.app.config;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What a domain or host name in the configuration must look like: the LDH rule of RFC 1123 §2.1 (letters, digits,
 * hyphens; labels of 1–63 characters, at most 253 in all), written without the root's trailing dot, in ASCII
 * (internationalized names in their {@code xn--} form, as they appear in SMTP without SMTPUTF8), and not an IP
 * address: relay control compares the domain of {@code RCPT TO} with these names, and an address literal is never
 * one of them.
 */
final class DnsNames {
    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern ALL_DIGITS = Pattern.compile("[0-9]+");

    private DnsNames() {
    }

    /** Why {@code name} (already lower case) is not a usable domain name, or empty when it is. */
    static Optional<String> problem(String name) {
        if (name.isEmpty()) {
            return Optional.of("must not be empty");
        }
        if (name.endsWith(".")) {
            return Optional.of("write " + Units.quote(name) + " without the trailing dot");
        }
        if (!name.chars().allMatch(c -> c < 128)) {
            return Optional.of("write internationalized names in their ASCII form (xn--...), got " + Units.quote(name));
        }
        if (name.indexOf(':') >= 0 || name.startsWith("[")) {
            return Optional.of("must be a domain name, not an IP address, got " + Units.quote(name));
        }
        String[] labels = name.split("\\.", -1);
        if (ALL_DIGITS.matcher(labels[labels.length - 1]).matches()) {
            // RFC 3696 §2: a top-level label is never all-numeric, so this is an IPv4 address (or a typo of one).
            return Optional.of("must be a domain name, not an IP address, got " + Units.quote(name));
        }
        if (name.length() > 253) {
            return Optional.of("must be at most 253 characters long, got " + name.length());
        }
        for (String label : labels) {
            if (!LABEL.matcher(label).matches()) {
                return Optional.of("is not a valid domain name (letters, digits, hyphens; dot-separated labels of "
                        + "1-63 characters), got " + Units.quote(name));
            }
        }
        return Optional.empty();
    }

    /** Like {@link #problem}, and the name must have a dot: RFC 5321 §4.1.1.1 wants a fully qualified name in EHLO. */
    static Optional<String> hostnameProblem(String name) {
        Optional<String> p = problem(name);
        if (p.isEmpty() && name.indexOf('.') < 0) {
            return Optional.of("must be a fully qualified name like backstop.example.org, got " + Units.quote(name));
        }
        return p;
    }
}
