package org.backstopmx.core;

import java.util.Locale;

/** Small helpers over {@code local@domain} strings that have already been parsed and checked. */
public final class Addresses {
    private Addresses() {
    }

    /** The part after the last {@code @}, in lower case; empty for an address without one (the null sender). */
    public static String domainOf(String address) {
        int at = address.lastIndexOf('@');
        return at < 0 ? "" : address.substring(at + 1).toLowerCase(Locale.ROOT);
    }

    /** The part before the last {@code @}. */
    public static String localPartOf(String address) {
        int at = address.lastIndexOf('@');
        return at < 0 ? address : address.substring(0, at);
    }
}
