package org.backstopmx.core;

import java.util.Locale;
import java.util.Optional;

/** The DSN {@code RET} parameter of MAIL FROM (RFC 3461 §4.3): return the full message or only its headers. */
public enum DsnRet {
    FULL,
    HDRS;

    /** Parses a RET value, case-insensitively; empty for anything else. */
    public static Optional<DsnRet> parse(String value) {
        if (value == null) {
            return Optional.empty();
        }
        switch (value.toUpperCase(Locale.ROOT)) {
            case "FULL":
                return Optional.of(FULL);
            case "HDRS":
                return Optional.of(HDRS);
            default:
                return Optional.empty();
        }
    }
}
