package org.backstopmx.core.config;

import java.util.Locale;

/**
 * How a served domain decides at RCPT time whether a local part exists: {@code domains.<name>.recipient-check}.
 * Written in the configuration in lower case ({@code none}, {@code list}, {@code callout}).
 */
public enum RecipientCheck {
    /** Any local part is accepted (the classic backup MX; the primary refuses unknown ones later, as bounces). */
    NONE,
    /** Only the local parts of {@code recipients} / {@code recipients-file}; the rest get 550 5.1.1. */
    LIST,
    /**
     * The primary is asked ({@code MAIL FROM:<>}, {@code RCPT TO}, {@code RSET}) and its answers are cached; while it
     * is down the cache decides. Listed local parts are accepted without asking.
     */
    CALLOUT;

    /** The name as written in the configuration. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
