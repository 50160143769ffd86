package org.backstopmx.app.config;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.backstopmx.app.config.RawConfig.RawDomain;

/**
 * Environment overrides, for containers: {@code BACKSTOP_} + the key upper-cased with {@code .} and {@code -} turned
 * into {@code _} ({@code smtp.listen} → {@code BACKSTOP_SMTP_LISTEN}), for every fixed key; list keys take
 * comma-separated values. {@code BACKSTOP_DOMAINS=example.org,example.net} replaces the served domains, each accepting
 * any local part. Domain names contain dots and hyphens, so they do not survive the mapping into a variable's name:
 * per-domain settings take one variable per setting with {@code domain=value} pairs ({@link
 * ConfigKeys#DOMAIN_SETTING_ENV}), and {@code BACKSTOP_ROUTES} the routes. An unknown {@code BACKSTOP_*} variable is an error like an unknown key in the file: a
 * typo in a deployment manifest must not pass silently.
 */
final class EnvironmentSource {
    private EnvironmentSource() {
    }

    static void read(Map<String, String> env, RawConfig into, Problems problems) {
        Map<String, String> byEnvName = ConfigKeys.byEnvName();
        Map<String, String> perDomain = new TreeMap<>();
        for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
            String name = e.getKey();
            if (!name.startsWith(ConfigKeys.ENV_PREFIX) || ConfigKeys.IGNORED_ENV.contains(name)) {
                continue;
            }
            if (name.equals(ConfigKeys.DOMAINS_ENV)) {
                into.domains = domains(name, e.getValue());
                continue;
            }
            if (ConfigKeys.DOMAIN_SETTING_ENV.containsKey(name)) {
                perDomain.put(name, e.getValue()); // once the served domains are known
                continue;
            }
            if (name.equals(ConfigKeys.ROUTES_ENV)) {
                pairs(name, e.getValue(), problems).forEach((domain, value) -> into.routes.put(domain,
                        RawValue.scalar(ConfigKeys.ROUTES + "." + domain, name, value)));
                continue;
            }
            String key = byEnvName.get(name);
            if (key == null) {
                problems.add(name, "unknown environment variable" + ConfigKeys.closest(name,
                        ConfigKeys.environmentNames()).map(k -> " (did you mean " + k + "?)").orElse(""));
            } else if (ConfigKeys.LISTS.contains(key)) {
                into.values.put(key, RawValue.commaList(key, name, e.getValue()));
            } else {
                into.values.put(key, RawValue.scalar(key, name, e.getValue()));
            }
        }
        perDomain.forEach((name, value) -> domainSettings(name, value, into, problems));
    }

    /** {@code BACKSTOP_DOMAIN_ROUTE=example.org=mail:25,...}: sets one setting of served domains, key by key. */
    private static void domainSettings(String name, String value, RawConfig into, Problems problems) {
        String setting = ConfigKeys.DOMAIN_SETTING_ENV.get(name);
        for (Map.Entry<String, String> pair : pairs(name, value, problems).entrySet()) {
            String domain = pair.getKey();
            String key = ConfigKeys.DOMAINS + "." + domain + "." + setting;
            RawDomain served = into.domains == null ? null : into.domains.entrySet().stream()
                    .filter(d -> d.getKey().equalsIgnoreCase(domain)).map(Map.Entry::getValue).findFirst().orElse(null);
            if (served == null) {
                problems.add(name, domain + " is not a served domain (name it under domains: or in "
                        + ConfigKeys.DOMAINS_ENV + ")");
                continue;
            }
            RawValue raw = ConfigKeys.DOMAIN_LISTS.contains(setting)
                    ? RawValue.list(key, name, java.util.Arrays.stream(pair.getValue().trim().split("\\s+"))
                            .filter(r -> !r.isEmpty()).toList())
                    : RawValue.scalar(key, name, pair.getValue());
            Map<String, RawValue> settings = new java.util.HashMap<>(served.settings());
            settings.put(setting, raw);
            into.domains.put(served.name(), new RawDomain(served.name(), served.origin(), settings));
        }
    }

    /** {@code a=x, b=y} → {a: x, b: y}; a pair without {@code =} is a problem of {@code name}. */
    private static Map<String, String> pairs(String name, String value, Problems problems) {
        Map<String, String> pairs = new LinkedHashMap<>();
        if (value == null || value.isBlank()) {
            return pairs;
        }
        for (String item : value.trim().split("\\s*,\\s*")) {
            int eq = item.indexOf('=');
            if (eq <= 0) {
                problems.add(name, "expected domain=value pairs separated by commas, got \"" + item + "\"");
                continue;
            }
            pairs.put(item.substring(0, eq).trim(), item.substring(eq + 1).trim());
        }
        return pairs;
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
