package org.backstopmx.core.config;

import java.util.Locale;

/** {@code screen.spf}: what the SPF check (RFC 7208) at MAIL FROM does. */
public enum SpfPolicy {
    /** No check, no headers; {@code Authentication-Results:} fields are left as they come. */
    OFF,
    /**
     * Check, and tell the primary: {@code Received-SPF:} and {@code Authentication-Results:} headers; nothing is
     * refused.
     */
    TAG,
    /** As {@link #TAG}, and refuse {@code fail} ({@code 550 5.7.23}) and tempfail {@code temperror} ({@code 451 4.7.24}). */
    ENFORCE;

    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
