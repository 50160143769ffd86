package org.backstopmx.forwarder;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import java.util.regex.Pattern;

/** IP address literals, parsed without ever asking DNS. */
final class AddressLiterals {
    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    private AddressLiterals() {
    }

    /** The address when {@code text} is a bare IPv4 or IPv6 literal ({@code 192.0.2.1}, {@code 2001:db8::1}). */
    static Optional<InetAddress> parse(String text) {
        // InetAddress.getByName only skips DNS for text that is a literal: check the syntax first.
        if (!IPV4.matcher(text).matches() && !IPV6.matcher(text).matches()) {
            return Optional.empty();
        }
        try {
            return Optional.of(InetAddress.getByName(text));
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }

    /**
     * The address of an RFC 5321 §4.1.3 address literal used as a domain ({@code [192.0.2.1]},
     * {@code [IPv6:2001:db8::1]}), or empty when {@code domain} is not one.
     */
    static Optional<InetAddress> parseDomainLiteral(String domain) {
        if (!domain.startsWith("[") || !domain.endsWith("]")) {
            return Optional.empty();
        }
        String inner = domain.substring(1, domain.length() - 1);
        if (inner.regionMatches(true, 0, "IPv6:", 0, 5)) {
            String v6 = inner.substring(5);
            return v6.indexOf(':') >= 0 ? parse(v6) : Optional.empty();
        }
        return IPV4.matcher(inner).matches() ? parse(inner) : Optional.empty();
    }
}
