package org.backstopmx.app.config;

import java.util.List;

/**
 * One key's value as written, before parsing: the text of a scalar, or the items of a list. Both null means the key
 * was given empty ({@code key:} with nothing after it, {@code ''}, or an empty environment variable): an optional
 * key is then unset, a required one is an error.
 *
 * @param key    the full key, for messages ({@code smtp.listen}, {@code domains.example.org.route})
 * @param origin the environment variable it came from, or null for the file
 * @param text   the scalar's text, or null
 * @param items  the list's items, or null
 */
record RawValue(String key, String origin, String text, List<String> items) {
    RawValue {
        items = items == null ? null : List.copyOf(items);
    }

    static RawValue scalar(String key, String origin, String text) {
        return new RawValue(key, origin, text == null || text.isBlank() ? null : text.trim(), null);
    }

    static RawValue list(String key, String origin, List<String> items) {
        return new RawValue(key, origin, null, items);
    }

    /** A list written as one string, {@code a, b,c}, as the environment (and a YAML scalar) gives it. */
    static RawValue commaList(String key, String origin, String text) {
        if (text == null || text.isBlank()) {
            return new RawValue(key, origin, null, null);
        }
        return list(key, origin, List.of(text.trim().split("\\s*,\\s*")).stream().filter(s -> !s.isEmpty()).toList());
    }

    boolean isEmpty() {
        return text == null && items == null;
    }
}
