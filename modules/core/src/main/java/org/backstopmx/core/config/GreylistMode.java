package org.backstopmx.core.config;

import java.util.Locale;

/** {@code screen.greylist}: whether the first try of a triplet is deferred at RCPT. */
public enum GreylistMode {
    OFF, ON;

    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
