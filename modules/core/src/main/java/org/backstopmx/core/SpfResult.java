package org.backstopmx.core;

import java.util.Locale;

/**
 * The result of an SPF check (RFC 7208 §2.6) of a message's sender at intake, kept in its envelope so that the
 * forwarder can decline to bounce to a sender who failed it (backscatter, RFC 7208 §10.1). The queue stores
 * {@link #name()}; a message received before SPF was checked, or with checking off, has none (null).
 */
public enum SpfResult {
    /** The client is authorized to send for the domain. */
    PASS,
    /** The client is explicitly not authorized ({@code -all}). */
    FAIL,
    /** Probably not authorized ({@code ~all}). */
    SOFTFAIL,
    /** The domain makes no assertion ({@code ?all}). */
    NEUTRAL,
    /** No SPF record, or no domain to check. */
    NONE,
    /** A transient DNS error: the check could not be made now. */
    TEMPERROR,
    /** The domain's record is broken, or took more DNS lookups than allowed. */
    PERMERROR;

    /** The lower-case name used in headers, metrics and the configuration ({@code pass}, {@code temperror}). */
    public String keyword() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The result for {@code keyword}, in any case; unknown words are {@code IllegalArgumentException}. */
    public static SpfResult of(String keyword) {
        return valueOf(keyword.trim().toUpperCase(Locale.ROOT));
    }
}
