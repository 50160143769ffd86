package org.backstopmx.app.config;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.backstopmx.app.config.RawConfig.RawDomain;

/**
 * Environment overrides, for containers: {@code BACKSTOP_} + the key upper-cased with {@code .} and {@code -} turned
 * into {@code _} ({@code smtp.listen} → {@code BACKSTOP_SMTP_LISTEN}), for every fixed key; list keys take
 * comma-separated values. {@code BACKSTOP_DOMAINS=example.org,example.net} replaces the served domains, each accepting
 * any local part (per-domain settings and {@code routes} need the file: domain names contain dots and hyphens, so they
 * do not survive the mapping). An unknown {@code BACKSTOP_*} variable is an error like an unknown key in the file: a
 * typo in a deployment manifest must not pass silently.
 */
final class EnvironmentSource {
    private EnvironmentSource() {
    }

    static void read(Map<String, String> env, RawConfig into, Problems problems) {
        Map<String, String> byEnvName = ConfigKeys.byEnvName();
        for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
            String name = e.getKey();
            if (!name.startsWith(ConfigKeys.ENV_PREFIX) || ConfigKeys.IGNORED_ENV.contains(name)) {
                continue;
            }
            if (name.equals(ConfigKeys.DOMAINS_ENV)) {
                into.domains = domains(name, e.getValue());
                continue;
            }
            String key = byEnvName.get(name);
            if (key == null) {
                problems.add(name, "unknown environment variable" + ConfigKeys.closest(name, byEnvName.keySet())
                        .map(k -> " (did you mean " + k + "?)").orElse(""));
            } else if (ConfigKeys.LISTS.contains(key)) {
                into.values.put(key, RawValue.commaList(key, name, e.getValue()));
            } else {
                into.values.put(key, RawValue.scalar(key, name, e.getValue()));
            }
        }
    }

    private static Map<String, RawDomain> domains(String name, String value) {
        Map<String, RawDomain> domains = new LinkedHashMap<>();
        RawValue list = RawValue.commaList(ConfigKeys.DOMAINS, name, value);
        if (!list.isEmpty()) {
            for (String d : list.items()) {
                domains.put(d, new RawDomain(d, name, Map.of()));
            }
        }
        return domains;
    }
}
