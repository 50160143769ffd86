package org.backstopmx.app.config;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Collects problems instead of failing at the first, and remembers which keys had one, so that a rule spanning two
 * keys stays quiet when one of them is already reported as unparseable (it would only repeat the same mistake).
 */
final class Problems {
    private final List<String> lines = new ArrayList<>();
    private final Set<String> keys = new HashSet<>();

    /** Records {@code key: message}, plus {@code (from BACKSTOP_X)} when the value came from the environment. */
    void add(String key, String message, String origin) {
        keys.add(key);
        lines.add(key + ": " + message + (origin == null ? "" : " (from " + origin + ")"));
    }

    void add(String key, String message) {
        add(key, message, null);
    }

    void add(RawValue value, String message) {
        add(value.key(), message, value.origin());
    }

    boolean has(String key) {
        return keys.contains(key);
    }

    boolean anyOf(String... someKeys) {
        for (String k : someKeys) {
            if (keys.contains(k)) {
                return true;
            }
        }
        return false;
    }

    /** Whether a problem was recorded for {@code prefix} itself or any key under it. */
    boolean hasUnder(String prefix) {
        return keys.stream().anyMatch(k -> k.equals(prefix) || k.startsWith(prefix + "."));
    }

    /** Throws every collected problem at once; does nothing when there is none. */
    void throwIfAny() throws ConfigException {
        if (!lines.isEmpty()) {
            throw new ConfigException(lines);
        }
    }
}
