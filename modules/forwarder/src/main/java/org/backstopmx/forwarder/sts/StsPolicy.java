package org.backstopmx.forwarder.sts;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.backstopmx.forwarder.DomainNames;

/**
 * An MTA-STS policy as published at {@code https://mta-sts.<domain>/.well-known/mta-sts.txt} (RFC 8461 §3.2).
 *
 * @param mode   what to do with an MX host the policy does not name, or one without verified TLS
 * @param mx     the MX host patterns, lower case, without trailing dot; {@code *.} as the first label matches one
 *               label (§4.1)
 * @param maxAge how long the policy may be cached ({@code max_age})
 */
public record StsPolicy(Mode mode, List<String> mx, Duration maxAge) {
    /** RFC 8461 §3.2: at most a year (31557600 s). */
    static final long MAX_AGE_LIMIT = 31_557_600L;

    /** {@code mode}: §5. */
    public enum Mode {
        /** Deliver only to named MX hosts with verified TLS; otherwise do not deliver. */
        ENFORCE,
        /** Deliver anyway, report (here: count and log) what would have failed. */
        TESTING,
        /** The domain has withdrawn its policy: as though there were none. */
        NONE
    }

    public StsPolicy {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(maxAge, "maxAge");
        mx = mx.stream().map(DomainNames::normalize).toList();
    }

    /**
     * Parses a policy body. Lines end in CRLF or LF; {@code key: value} with white space around the value ignored;
     * unknown keys ignored (§3.2: for extensions); a repeated key other than {@code mx} counts once, the first.
     *
     * @throws Invalid when {@code version} is not {@code STSv1}, {@code mode} or {@code max_age} is missing or
     *                 malformed, or a mode other than {@code none} names no {@code mx}
     */
    public static StsPolicy parse(String text) throws Invalid {
        Map<String, String> fields = new HashMap<>();
        List<String> mx = new ArrayList<>();
        for (String line : text.split("\r?\n")) {
            if (line.isBlank()) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new Invalid("not a key: value line: " + line);
            }
            String key = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).trim();
            if (key.equals("mx")) {
                if (!value.matches("(\\*\\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?\\.?")) {
                    throw new Invalid("not an mx pattern: " + value);
                }
                mx.add(value);
            } else {
                fields.putIfAbsent(key, value);
            }
        }
        if (!"STSv1".equals(fields.get("version"))) {
            throw new Invalid("version is not STSv1: " + fields.get("version"));
        }
        Mode mode;
        try {
            mode = Mode.valueOf(String.valueOf(fields.get("mode")).toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new Invalid("mode is not enforce, testing or none: " + fields.get("mode"));
        }
        String age = fields.get("max_age");
        if (age == null || !age.matches("[0-9]{1,10}") || Long.parseLong(age) > MAX_AGE_LIMIT) {
            throw new Invalid("max_age is not 0 to " + MAX_AGE_LIMIT + " seconds: " + age);
        }
        if (mode != Mode.NONE && mx.isEmpty()) {
            throw new Invalid("mode " + fields.get("mode") + " without mx");
        }
        return new StsPolicy(mode, mx, Duration.ofSeconds(Long.parseLong(age)));
    }

    /**
     * Whether {@code host} (an MX host name) is one the policy names: equal to a pattern, or for {@code *.rest} one
     * label followed by {@code .rest} (§4.1: the wildcard covers exactly the leftmost label).
     */
    public boolean matches(String host) {
        String h = DomainNames.normalize(host);
        for (String pattern : mx) {
            if (pattern.startsWith("*.")) {
                String rest = pattern.substring(1); // ".example.net"
                int dot = h.indexOf('.');
                if (dot > 0 && h.substring(dot).equals(rest)) {
                    return true;
                }
            } else if (pattern.equals(h)) {
                return true;
            }
        }
        return false;
    }

    /** The policy text is not an RFC 8461 policy. */
    public static final class Invalid extends Exception {
        private static final long serialVersionUID = 1L;

        Invalid(String message) {
            super(message);
        }
    }
}
