package org.backstopmx.app;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.backstopmx.core.config.BackstopConfig;

/**
 * What a configuration reload can do with a newly loaded configuration. Live: the served domains with everything
 * under them ({@code domains.<name>.*}: recipients, recipient files, route, tls), {@code routes} and
 * {@code self-names}, which only feed RCPT checks and route resolution, both of which read a snapshot that is swapped
 * whole. Every other key is bound at start (listeners, thread pools, the queue, the greeting's hostname, timeouts)
 * and needs a restart.
 *
 * @param live          the running configuration with the live keys taken from the loaded one: what runs after
 *                      the reload
 * @param needRestart   the keys whose loaded value differs from the running one and is not applied, in the order of
 *                      the configuration
 */
record ReloadPlan(BackstopConfig live, List<String> needRestart) {
    /** Top-level components applied live; every other component is compared key by key. */
    private static final Set<String> LIVE = Set.of("domains", "routes", "selfNames");

    ReloadPlan {
        Objects.requireNonNull(live, "live");
        needRestart = List.copyOf(needRestart);
    }

    static ReloadPlan of(BackstopConfig running, BackstopConfig loaded) {
        BackstopConfig live = new BackstopConfig(running.hostname(), loaded.selfNames(), running.smtp(),
                loaded.domains(), loaded.routes(), running.queue(), running.retry(), running.probe(),
                running.accept(), running.delivery(), running.dns(), running.metrics(), running.admin(),
                running.callout(), running.screen());
        List<String> changed = new ArrayList<>();
        differences("", BackstopConfig.class, running, loaded, changed);
        return new ReloadPlan(live, changed);
    }

    /** Whether anything served changed: domains, recipient lists or files, routes, self-names. */
    boolean changes(BackstopConfig running) {
        return !live.equals(running);
    }

    /**
     * Adds to {@code out} the configuration key of every leaf that differs between {@code a} and {@code b}, walking the
     * record tree: a record component {@code maxMessageSize} of section {@code smtp} is the key
     * {@code smtp.max-message-size}. Sections are the {@code *Config} records; anything else is a value.
     */
    private static void differences(String prefix, Class<?> type, Object a, Object b, List<String> out) {
        for (RecordComponent c : type.getRecordComponents()) {
            if (prefix.isEmpty() && LIVE.contains(c.getName())) {
                continue;
            }
            String key = prefix + kebab(c.getName());
            Object va = a == null ? null : value(c, a);
            Object vb = b == null ? null : value(c, b);
            if (Objects.equals(va, vb)) {
                continue;
            }
            if (isSection(c.getType())) {
                differences(key + ".", c.getType(), va, vb, out);
            } else {
                out.add(key);
            }
        }
    }

    /** Every key {@link #differences} can name, for the test that holds them to the loader's list. */
    static List<String> keys() {
        List<String> out = new ArrayList<>();
        keys("", BackstopConfig.class, out);
        return out;
    }

    private static void keys(String prefix, Class<?> type, List<String> out) {
        for (RecordComponent c : type.getRecordComponents()) {
            if (prefix.isEmpty() && LIVE.contains(c.getName())) {
                continue;
            }
            String key = prefix + kebab(c.getName());
            if (isSection(c.getType())) {
                keys(key + ".", c.getType(), out);
            } else {
                out.add(key);
            }
        }
    }

    private static boolean isSection(Class<?> type) {
        return type.isRecord() && type.getSimpleName().endsWith("Config");
    }

    private static Object value(RecordComponent c, Object record) {
        try {
            return c.getAccessor().invoke(record);
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("cannot read " + c.getName(), e);
        }
    }

    /** {@code maxMessageSize} → {@code max-message-size}. */
    static String kebab(String camel) {
        StringBuilder b = new StringBuilder();
        for (char ch : camel.toCharArray()) {
            if (Character.isUpperCase(ch)) {
                b.append('-').append(Character.toLowerCase(ch));
            } else {
                b.append(ch);
            }
        }
        return b.toString();
    }
}
