package org.backstopmx.app.config;

import static org.backstopmx.app.config.Units.quote;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import org.backstopmx.core.config.CalloutConfig;
import org.backstopmx.core.config.HostPort;
import org.backstopmx.core.config.AcceptMode;
import org.backstopmx.core.config.AtExpiry;
import org.backstopmx.core.config.ProxyProtocol;
import org.backstopmx.core.config.TlsMode;

/**
 * Text → value for each kind of key, with the rule every key of that kind obeys (counts and sizes positive, ports in
 * range). Each throws {@link IllegalArgumentException} whose message completes {@code "<key>: "} and quotes the text
 * given. Rules that span keys live in {@link ConfigValidator}.
 */
final class ValueParsers {
    /**
     * The longest timeout: socket and timer APIs take milliseconds as an int, which ends after 24.8 days, and a reply
     * slower than this is no reply.
     */
    static final Duration MAX_TIMEOUT = Duration.ofDays(24);

    /** The most connections to one destination at once ({@code delivery.concurrency}). */
    static final int MAX_CONCURRENCY = 1000;

    private ValueParsers() {
    }

    /** A count: {@code max-recipients}, {@code worker-threads}, ... */
    static int positiveInt(String text) {
        try {
            int n = Integer.parseInt(text.trim());
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // fall through to the one message
        }
        throw new IllegalArgumentException("must be a positive number, got " + quote(text));
    }

    /** A count where 0 means none: {@code smtp.recipient-overshoot-limit}. */
    static int nonNegativeInt(String text) {
        try {
            int n = Integer.parseInt(text.trim());
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // fall through to the one message
        }
        throw new IllegalArgumentException("must be 0 or a positive number, got " + quote(text));
    }

    /** {@code delivery.concurrency}: 1 to {@value #MAX_CONCURRENCY}. */
    static int concurrency(String text) {
        try {
            int n = Integer.parseInt(text.trim());
            if (n >= 1 && n <= MAX_CONCURRENCY) {
                return n;
            }
        } catch (NumberFormatException e) {
            // fall through to the one message
        }
        throw new IllegalArgumentException("must be a number from 1 to " + MAX_CONCURRENCY + ", got " + quote(text));
    }

    static long positiveSize(String text) {
        long n = Units.parseSize(text);
        if (n <= 0) {
            throw new IllegalArgumentException("must be a positive size, got " + quote(text));
        }
        return n;
    }

    /** A size where 0 means "no limit of our own" or "the built-in rule" (queue.min-free-space). */
    static long size(String text) {
        return Units.parseSize(text);
    }

    /** A size that the record holds as an int (line lengths). */
    static int intSize(String text) {
        long n = positiveSize(text);
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("must be at most 2GB, got " + quote(text));
        }
        return (int) n;
    }

    static Duration positiveDuration(String text) {
        Duration d = Units.parseDuration(text);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException("must be a positive duration, got " + quote(text));
        }
        return d;
    }

    /** A timeout: positive, at most {@link #MAX_TIMEOUT}. */
    static Duration timeout(String text) {
        return atMostMaxTimeout(positiveDuration(text), text);
    }

    /** A time that may be zero ({@code delivery.connection-reuse-time}), at most {@link #MAX_TIMEOUT}. */
    static Duration nonNegativeDuration(String text) {
        Duration d = Units.parseDuration(text);
        if (d.isNegative()) {
            throw new IllegalArgumentException("must be zero or a positive duration, got " + quote(text));
        }
        return atMostMaxTimeout(d, text);
    }

    private static Duration atMostMaxTimeout(Duration d, String text) {
        if (d.compareTo(MAX_TIMEOUT) > 0) {
            throw new IllegalArgumentException("must be at most 24d, got " + quote(text));
        }
        return d;
    }

    /**
     * A duration, or {@code off} / {@code 0} for none ({@link Duration#ZERO}): {@code delivery.delay-warning}. YAML 1.1
     * reads a bare {@code off} as the boolean false, so {@code false} means off too.
     */
    static Duration durationOrOff(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.equals("off") || t.equals("0") || t.equals("false")) {
            return Duration.ZERO;
        }
        Duration d;
        try {
            d = Units.parseDuration(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("must be off or a duration like 30m, 4h or 1d, got " + quote(text));
        }
        if (d.isNegative()) {
            throw new IllegalArgumentException("must be off or a positive duration, got " + quote(text));
        }
        return d;
    }

    /** {@code none}, {@code opportunistic}, {@code required}, {@code verify}, {@code fingerprint} or {@code mta-sts}, in any case. */
    static TlsMode tlsMode(String text) {
        String t = text.trim();
        for (TlsMode mode : TlsMode.values()) {
            if (mode.configName().equalsIgnoreCase(t)) {
                return mode;
            }
        }
        throw new IllegalArgumentException("must be one of " + Arrays.stream(TlsMode.values())
                .map(TlsMode::configName).collect(Collectors.joining(", ")) + ", got " + quote(text));
    }

    /** SHA-256 in hex (64 digits), with or without colons, any case; returned lower case without colons. */
    static String sha256Pin(String text) {
        String hex = text.replace(":", "").trim().toLowerCase(java.util.Locale.ROOT);
        if (!hex.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("must be a SHA-256 in hex (64 digits, colons allowed), got "
                    + quote(text));
        }
        return hex;
    }

    /** {@code none}, {@code list} or {@code callout}, in any case. */
    static org.backstopmx.core.config.RecipientCheck recipientCheck(String text) {
        String t = text.trim();
        for (org.backstopmx.core.config.RecipientCheck c : org.backstopmx.core.config.RecipientCheck.values()) {
            if (c.configName().equalsIgnoreCase(t)) {
                return c;
            }
        }
        throw new IllegalArgumentException("must be one of none, list, callout, got " + quote(text));
    }

    /** {@code tempfail} or {@code accept}, in any case: {@code callout.unknown-when-down}. */
    static CalloutConfig.UnknownWhenDown unknownWhenDown(String text) {
        String t = text.trim();
        for (CalloutConfig.UnknownWhenDown u : CalloutConfig.UnknownWhenDown.values()) {
            if (u.configName().equalsIgnoreCase(t)) {
                return u;
            }
        }
        throw new IllegalArgumentException("must be tempfail or accept, got " + quote(text));
    }

    /** {@code true} or {@code false}, in any case. */
    static boolean bool(String text) {
        String t = text.trim();
        if (t.equalsIgnoreCase("true") || t.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(t);
        }
        throw new IllegalArgumentException("must be true or false, got " + quote(text));
    }

    /** {@code off}, {@code v1}, {@code v2} or {@code any}, in any case; YAML reads a bare {@code off} as false. */
    static AcceptMode acceptMode(String text) {
        return oneOf(text, AcceptMode.values(), AcceptMode::configName);
    }

    static AtExpiry atExpiry(String text) {
        return oneOf(text, AtExpiry.values(), AtExpiry::configName);
    }

    static org.backstopmx.core.config.QueueType queueType(String text) {
        return oneOf(text, org.backstopmx.core.config.QueueType.values(),
                org.backstopmx.core.config.QueueType::configName);
    }

    /** {@code queue.url}: a PostgreSQL JDBC URL. */
    static String jdbcUrl(String text) {
        String t = text.trim();
        if (!t.startsWith("jdbc:postgresql://")) {
            throw new IllegalArgumentException("must be a URL like jdbc:postgresql://db.example.org:5432/backstop, got "
                    + quote(text));
        }
        return t;
    }

    /** {@code queue.node-id}: 1 to 64 printable characters without spaces. */
    static String nodeId(String text) {
        String t = text.trim();
        if (t.isEmpty() || t.length() > 64 || t.chars().anyMatch(c -> c <= ' ' || c >= 127)) {
            throw new IllegalArgumentException("must be 1 to 64 printable ASCII characters without spaces, got "
                    + quote(text));
        }
        return t;
    }

    /** The value among {@code values} whose configuration name is {@code text}, case-insensitive. */
    private static <E> E oneOf(String text, E[] values, java.util.function.Function<E, String> name) {
        String t = text.trim();
        for (E value : values) {
            if (name.apply(value).equalsIgnoreCase(t)) {
                return value;
            }
        }
        throw new IllegalArgumentException("must be one of " + Arrays.stream(values).map(name)
                .collect(Collectors.joining(", ")) + ", got " + quote(text));
    }

    static ProxyProtocol proxyProtocol(String text) {
        String t = text.trim();
        if (t.equals("false")) {
            return ProxyProtocol.OFF;
        }
        for (ProxyProtocol mode : ProxyProtocol.values()) {
            if (mode.configName().equalsIgnoreCase(t)) {
                return mode;
            }
        }
        throw new IllegalArgumentException("must be one of " + Arrays.stream(ProxyProtocol.values())
                .map(ProxyProtocol::configName).collect(Collectors.joining(", ")) + ", got " + quote(text));
    }

    /** A ratio greater than 1: compacting whenever the file is not larger than its live data would never stop. */
    static double ratioAboveOne(String text) {
        try {
            double r = Double.parseDouble(text.trim());
            if (r > 1 && !Double.isInfinite(r)) {
                return r;
            }
        } catch (NumberFormatException e) {
            // fall through to the one message
        }
        throw new IllegalArgumentException("must be a number greater than 1, got " + quote(text));
    }

    /** An address to bind: port 0 asks the system for any free port (tests use it). */
    static HostPort listenAddress(String text) {
        return hostPort(text, 0);
    }

    /** A peer to connect to (route, DNS server): a real port. */
    static HostPort destination(String text) {
        return hostPort(text, 1);
    }

    private static HostPort hostPort(String text, int minPort) {
        HostPort hp;
        try {
            hp = HostPort.parse(text);
        } catch (IllegalArgumentException e) {
            String port = text.substring(text.lastIndexOf(':') + 1).trim();
            if (port.matches("-?[0-9]{1,9}")) {
                long n = Long.parseLong(port);
                if (n < 0 || n > 65535) {
                    throw badPort(text, minPort); // HostPort refuses a port out of range
                }
            }
            throw new IllegalArgumentException("must be host:port (IPv6 as [addr]:port), got " + quote(text));
        }
        if (hp.host().isBlank()) {
            throw new IllegalArgumentException("must be host:port with a host, got " + quote(text));
        }
        if (hp.port() < minPort) {
            throw badPort(text, minPort);
        }
        return hp;
    }

    private static IllegalArgumentException badPort(String text, int minPort) {
        return new IllegalArgumentException("port must be " + minPort + "-65535, got " + quote(text));
    }

    static Path path(String text) {
        try {
            return Path.of(text);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("is not a valid path: " + e.getReason() + ", got " + quote(text));
        }
    }

    static String text(String text) {
        return text;
    }

    /** A plain address, {@code local@domain}: {@code smtp.postmaster}. The domain is lower-cased. */
    static String mailbox(String text) {
        String t = text.trim();
        int at = t.lastIndexOf('@');
        if (at <= 0 || at == t.length() - 1 || t.indexOf('@') != at || at > 64
                || t.chars().anyMatch(c -> c <= ' ' || c == 127 || c == '<' || c == '>')) {
            throw new IllegalArgumentException("must be an address like postmaster@example.org, got " + quote(text));
        }
        return t.substring(0, at) + "@" + hostName(t.substring(at + 1));
    }

    /** Our own name: a fully qualified domain name, kept as written (it is what the greeting shows). */
    static String hostname(String text) {
        DnsNames.hostnameProblem(text.toLowerCase(Locale.ROOT)).ifPresent(p -> {
            throw new IllegalArgumentException(p);
        });
        return text;
    }

    /** A name of this host or a peer, lower case: compared with MX host names. */
    static String hostName(String text) {
        String lower = text.toLowerCase(Locale.ROOT);
        DnsNames.problem(lower).ifPresent(p -> {
            throw new IllegalArgumentException(p);
        });
        return lower;
    }
}
