package org.backstopmx.app.config;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The human units of the configuration file, so that an admin writes {@code 5m} and {@code 50MB} rather than
 * {@code 300} (seconds? milliseconds?) and {@code 52428800}.
 *
 * <ul>
 *   <li>Durations: a number with a unit {@code ms}, {@code s}, {@code m}, {@code h} or {@code d} ({@code 250ms},
 *       {@code 30s}, {@code 5m}, {@code 1h}, {@code 5d}), several in a row ({@code 1h30m}), or ISO-8601
 *       ({@code PT5M}, {@code P5D}). A bare number is refused: its unit would be a guess.
 *   <li>Sizes: a number of bytes ({@code 512}) or a number with a binary unit, case-insensitive: {@code K}, {@code KB},
 *       {@code KiB} = 1024; {@code M}, {@code MB}, {@code MiB} = 1024²; {@code G}/{@code GB}/{@code GiB};
 *       {@code T}/{@code TB}/{@code TiB}. {@code KB} means 1024 here, as in Postfix and most mail software.
 * </ul>
 *
 * <p>Both throw {@link IllegalArgumentException} with a message that shows the expected form and the text given.
 */
public final class Units {
    private static final Pattern DURATION_PART = Pattern.compile("(\\d+)(ms|s|m|h|d)");
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([a-z]*)", Pattern.CASE_INSENSITIVE);
    private static final Map<String, Long> SIZE_UNITS = Map.ofEntries(
            Map.entry("", 1L), Map.entry("b", 1L),
            Map.entry("k", 1L << 10), Map.entry("kb", 1L << 10), Map.entry("kib", 1L << 10),
            Map.entry("m", 1L << 20), Map.entry("mb", 1L << 20), Map.entry("mib", 1L << 20),
            Map.entry("g", 1L << 30), Map.entry("gb", 1L << 30), Map.entry("gib", 1L << 30),
            Map.entry("t", 1L << 40), Map.entry("tb", 1L << 40), Map.entry("tib", 1L << 40));

    private Units() {
    }

    /** Parses {@code 250ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 5d}, {@code 1h30m} or ISO-8601 {@code PT5M}. */
    public static Duration parseDuration(String text) {
        String t = text.trim();
        try {
            if (t.startsWith("P") || t.startsWith("p")) {
                return Duration.parse(t);
            }
            Matcher m = DURATION_PART.matcher(t);
            Duration total = Duration.ZERO;
            int pos = 0;
            while (pos < t.length()) {
                m.region(pos, t.length());
                if (!m.lookingAt()) {
                    throw badDuration(text);
                }
                total = total.plus(part(Long.parseLong(m.group(1)), m.group(2)));
                pos = m.end();
            }
            if (pos == 0) {
                throw badDuration(text);
            }
            return total;
        } catch (DateTimeParseException | ArithmeticException | NumberFormatException e) {
            throw badDuration(text);
        }
    }

    /** Parses {@code 512}, {@code 64KB}, {@code 50MB}, {@code 1GiB} (binary multiples) into bytes. */
    public static long parseSize(String text) {
        Matcher m = SIZE.matcher(text.trim());
        Long unit = m.matches() ? SIZE_UNITS.get(m.group(2).toLowerCase(Locale.ROOT)) : null;
        if (unit == null) {
            throw new IllegalArgumentException("must be a size like 512, 64KB, 50MB or 1GB, got " + quote(text));
        }
        try {
            return Math.multiplyExact(Long.parseLong(m.group(1)), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("is too large, got " + quote(text));
        }
    }

    static String quote(String text) {
        return '"' + text + '"';
    }

    private static Duration part(long amount, String unit) {
        return switch (unit) {
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            case "d" -> Duration.ofDays(amount);
            default -> throw new IllegalStateException("unit " + unit);
        };
    }

    private static IllegalArgumentException badDuration(String text) {
        return new IllegalArgumentException(
                "must be a duration like 250ms, 30s, 5m, 1h, 5d or PT5M, got " + quote(text));
    }
}
