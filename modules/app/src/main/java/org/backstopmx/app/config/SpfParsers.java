package org.backstopmx.app.config;

import static org.backstopmx.app.config.Units.quote;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import org.backstopmx.core.config.SpfPolicy;

/** The values of {@code screen.spf} and {@code screen.bounce-only-spf-pass}. */
final class SpfParsers {
    private SpfParsers() {
    }

    /** {@code off}, {@code tag} or {@code enforce}, in any case; YAML 1.1 reads a bare {@code off} as false. */
    static SpfPolicy policy(String text) {
        String t = text.trim();
        if (t.equalsIgnoreCase("false")) {
            return SpfPolicy.OFF;
        }
        for (SpfPolicy p : SpfPolicy.values()) {
            if (p.configName().equalsIgnoreCase(t)) {
                return p;
            }
        }
        throw new IllegalArgumentException("must be one of " + Arrays.stream(SpfPolicy.values())
                .map(SpfPolicy::configName).collect(Collectors.joining(", ")) + ", got " + quote(text));
    }

    /** {@code true} or {@code false} (YAML 1.1's yes, no, on, off as well). */
    static Boolean flag(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on" -> Boolean.TRUE;
            case "false", "no", "off" -> Boolean.FALSE;
            default -> throw new IllegalArgumentException("must be true or false, got " + quote(text));
        };
    }
}
