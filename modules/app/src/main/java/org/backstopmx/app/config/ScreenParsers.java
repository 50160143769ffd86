package org.backstopmx.app.config;

import static org.backstopmx.app.config.Units.quote;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;
import org.backstopmx.core.config.DnsListMatch;
import org.backstopmx.core.config.GreylistMode;
import org.backstopmx.core.config.ScreenConfig.Action;
import org.backstopmx.core.config.ScreenConfig.DnsList;

/**
 * The values of {@code screen.*} that are not plain numbers, durations or addresses.
 *
 * <p>An item of {@code screen.dnsbl} or {@code screen.dnswl} is a YAML mapping
 * {@code {zone: zen.spamhaus.org, weight: 2, match: 127.0.0.[2..11]}}, which the YAML reader hands on as the text
 * {@code zone=zen.spamhaus.org weight=2 match=127.0.0.[2..11]}, the same text the environment takes
 * ({@code BACKSTOP_SCREEN_DNSBL=zone=zen.spamhaus.org weight=2, zone=bl.example}), or a zone name alone. {@code zone}
 * is required; {@code weight} defaults to 1, {@code match} to any answer.
 */
final class ScreenParsers {
    /** The settings of one DNS list item, in the order they are written back. */
    static final java.util.List<String> DNS_LIST_FIELDS = java.util.List.of("zone", "weight", "match");

    private ScreenParsers() {
    }

    static DnsList dnsList(String text) {
        String zone = null;
        int weight = 1;
        DnsListMatch match = DnsListMatch.any();
        for (String token : text.trim().split("\\s+")) {
            int eq = token.indexOf('=');
            String field = eq < 0 ? "zone" : token.substring(0, eq).toLowerCase(Locale.ROOT);
            String value = eq < 0 ? token : token.substring(eq + 1);
            switch (field) {
                case "zone" -> {
                    if (zone != null) {
                        throw new IllegalArgumentException("one zone per list, got " + quote(text));
                    }
                    zone = zone(value);
                }
                case "weight" -> weight = ValueParsers.positiveInt(value);
                case "match" -> match = DnsListMatch.parse(value);
                default -> throw new IllegalArgumentException("unknown setting " + quote(field) + " in " + quote(text)
                        + ConfigKeys.closest(field, DNS_LIST_FIELDS).map(k -> " (did you mean " + k + "?)").orElse("")
                        + "; a list takes zone, weight, match");
            }
        }
        if (zone == null) {
            throw new IllegalArgumentException("a list needs its zone, like {zone: zen.spamhaus.org}, got " + quote(text));
        }
        return new DnsList(zone, weight, match);
    }

    private static String zone(String value) {
        String name = value.toLowerCase(Locale.ROOT);
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        Optional<String> problem = DnsNames.problem(name);
        if (problem.isPresent()) {
            throw new IllegalArgumentException("zone " + quote(value) + ": " + problem.get());
        }
        return name;
    }

    static Action action(String text) {
        for (Action a : Action.values()) {
            if (a.configName().equalsIgnoreCase(text.trim())) {
                return a;
            }
        }
        throw new IllegalArgumentException("must be one of " + Arrays.stream(Action.values())
                .map(Action::configName).collect(Collectors.joining(", ")) + ", got " + quote(text));
    }

    /** {@code off} or {@code on}; YAML 1.1 reads both unquoted as booleans, which come here as false and true. */
    static GreylistMode greylist(String text) {
        String t = text.trim();
        if (t.equals("false")) {
            return GreylistMode.OFF;
        }
        if (t.equals("true")) {
            return GreylistMode.ON;
        }
        for (GreylistMode m : GreylistMode.values()) {
            if (m.configName().equalsIgnoreCase(t)) {
                return m;
            }
        }
        throw new IllegalArgumentException("must be one of off, on, got " + quote(text));
    }
}
