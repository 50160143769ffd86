package org.backstopmx.forwarder;

import java.util.Locale;

/** How domain names are compared here: case-insensitively (RFC 1035 §2.3.3), with the trailing dot ignored. */
public final class DomainNames {
    private DomainNames() {
    }

    /** Lower case, without the trailing dot; the root ({@code "."}) becomes the empty string. */
    public static String normalize(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
    }
}
