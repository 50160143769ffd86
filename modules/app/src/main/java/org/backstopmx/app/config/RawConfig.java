package org.backstopmx.app.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The configuration as written, merged from the file and the environment (later sources replace earlier ones key by
 * key), before any parsing. Keys that no source names keep their embedded default.
 */
final class RawConfig {
    /** The fixed keys ({@link ConfigKeys#FIXED}) that a source set. */
    final Map<String, RawValue> values = new LinkedHashMap<>();

    /**
     * The served domains by name as written, or null when no source names them: then the embedded default
     * ({@code example.test}) stays. A source that names them replaces the whole set.
     */
    Map<String, RawDomain> domains;

    /** {@code routes.<domain>} by domain as written. */
    final Map<String, RawValue> routes = new LinkedHashMap<>();

    /**
     * One served domain as written.
     *
     * @param name     the name as written (the loader lower-cases it)
     * @param origin   the environment variable that named it, or null for the file
     * @param settings {@code route}, {@code recipients}, {@code recipients-file}, {@code tls} → value
     */
    record RawDomain(String name, String origin, Map<String, RawValue> settings) {
        RawDomain {
            settings = Map.copyOf(settings);
        }
    }
}
