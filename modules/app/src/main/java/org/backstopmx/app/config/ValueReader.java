package org.backstopmx.app.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads typed values out of a {@link RawConfig}: a key no source set keeps its default; a value that does not parse
 * is recorded as a problem and the default stands in, so that loading goes on and finds every other problem too.
 */
final class ValueReader {
    /** Text → value; throws {@link IllegalArgumentException} with a message that completes "key: ". */
    @FunctionalInterface
    interface Parser<T> {
        T parse(String text);
    }

    private final Map<String, RawValue> values;
    private final Problems problems;

    ValueReader(Map<String, RawValue> values, Problems problems) {
        this.values = values;
        this.problems = problems;
    }

    /** A key that must have a value when given. */
    <T> T get(String key, T dflt, Parser<T> parser) {
        RawValue v = lookup(key);
        return v == null ? dflt : value(v, dflt, false, parser);
    }

    /** A key whose empty value means "unset" (null). */
    <T> T optional(String key, T dflt, Parser<T> parser) {
        RawValue v = lookup(key);
        return v == null ? dflt : value(v, dflt, true, parser);
    }

    /** A list key; given empty, the list is empty. Each bad item is its own problem. */
    <T> List<T> list(String key, List<T> dflt, Parser<T> parser) {
        RawValue v = lookup(key);
        return v == null ? dflt : items(v, parser);
    }

    /** Parses one value that is not at a fixed key (a domain's route, say). */
    <T> T value(RawValue v, T dflt, boolean optional, Parser<T> parser) {
        if (v.isEmpty()) {
            if (optional) {
                return null;
            }
            problems.add(v, "must not be empty");
            return dflt;
        }
        if (v.text() == null) {
            problems.add(v, "expected a single value, got a list");
            return dflt;
        }
        try {
            return parser.parse(v.text());
        } catch (IllegalArgumentException e) {
            problems.add(v, e.getMessage());
            return dflt;
        }
    }

    <T> List<T> items(RawValue v, Parser<T> parser) {
        List<T> out = new ArrayList<>();
        if (v.isEmpty()) {
            return out;
        }
        for (String item : v.items() != null ? v.items() : List.of(v.text())) {
            try {
                out.add(parser.parse(item));
            } catch (IllegalArgumentException e) {
                problems.add(v, e.getMessage());
            }
        }
        return out;
    }

    private RawValue lookup(String key) {
        if (!ConfigKeys.FIXED.contains(key)) {
            throw new IllegalStateException(key + " is not in ConfigKeys.FIXED");
        }
        return values.get(key);
    }
}
