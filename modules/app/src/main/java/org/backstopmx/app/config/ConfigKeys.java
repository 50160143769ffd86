package org.backstopmx.app.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The one list of configuration keys. The YAML reader accepts exactly these, the environment names are derived from
 * them, and a test holds {@code deploy/backstop.example.yaml} and the configuration table in {@code README.md} to {@link #all()},
 * so the documentation cannot drift from the loader. What each key means, and its default, is documented on the
 * records in {@code org.backstopmx.core.config}.
 */
public final class ConfigKeys {
    /** The keys at fixed places in the tree, in the order of the example file (domains and routes go before queue). */
    static final List<String> FIXED = List.of(
            "hostname",
            "self-names",
            "smtp.listen",
            "smtp.max-message-size",
            "smtp.max-recipients",
            "smtp.recipient-overshoot-limit",
            "smtp.max-connections",
            "smtp.max-connections-per-ip",
            "smtp.idle-timeout",
            "smtp.max-command-line-length",
            "smtp.max-line-length",
            "smtp.max-errors",
            "smtp.max-received-headers",
            "smtp.worker-threads",
            "smtp.postmaster",
            "smtp.tls.certificate",
            "smtp.tls.key",
            "smtp.proxy-protocol",
            "smtp.proxy-trusted",
            "smtp.record-deadline",
            "smtp.stress-record-deadline",
            "queue.path",
            "queue.lifetime",
            "queue.min-free-space",
            "queue.compact-ratio",
            "queue.compact-min-size",
            "queue.expiry-warning",
            "queue.at-expiry",
            "queue.type",
            "queue.url",
            "queue.username",
            "queue.password-file",
            "queue.node-id",
            "queue.lease-time",
            "retry.min-backoff",
            "retry.max-backoff",
            "probe.interval",
            "accept.down-after",
            "delivery.concurrency",
            "delivery.connection-reuse-time",
            "delivery.connect-timeout",
            "delivery.command-timeout",
            "delivery.data-timeout",
            "delivery.tls",
            "delivery.delay-warning",
            "delivery.bounce-size-limit",
            "delivery.tls-ca-file",
            "dns.server",
            "dns.timeout",
            "dns.trust-anchor-file",
            "dns.trust-ad",
            "metrics.listen",
            "admin.listen",
            "admin.token",
            "admin.token-file",
            "callout.timeout",
            "callout.max-sessions",
            "callout.positive-ttl",
            "callout.negative-ttl",
            "callout.unknown-when-down",
            "screen.dnsbl",
            "screen.dnswl",
            "screen.threshold",
            "screen.action",
            "screen.trusted",
            "screen.greet-delay",
            "screen.rate.connections-per-client",
            "screen.rate.connections-per-network",
            "screen.rate.messages-per-client",
            "screen.rate.messages-per-network",
            "screen.greylist",
            "screen.greylist-delay",
            "screen.greylist-retry-window",
            "screen.greylist-lifetime",
            "screen.spf",
            "screen.bounce-only-spf-pass");

    /** Fixed keys whose value is a list (a YAML sequence, or comma-separated in the environment). */
    static final Set<String> LISTS = Set.of("self-names", "smtp.proxy-trusted", "screen.dnsbl", "screen.dnswl",
            "screen.trusted");

    /**
     * List keys whose items may be mappings (of {@link ScreenParsers#DNS_LIST_FIELDS}); the YAML reader writes each
     * as {@code field=value} pairs, as the environment gives them.
     */
    static final Set<String> MAPPING_LISTS = Set.of("screen.dnsbl", "screen.dnswl");

    /** {@code domains.<name>}: the served domains, a mapping from name to these settings (or to nothing). */
    static final String DOMAINS = "domains";
    static final List<String> DOMAIN_SETTINGS = List.of("route", "recipients", "recipients-file", "recipient-check", "tls",
            "tls-fingerprints", "etrn-from", "accept");
    /** Per-domain keys whose value is a list. */
    static final Set<String> DOMAIN_LISTS = Set.of("recipients", "etrn-from", "tls-fingerprints");

    /** {@code routes.<domain>}: host:port for domains that are not served (bounces, say). */
    static final String ROUTES = "routes";

    static final String ENV_PREFIX = "BACKSTOP_";
    /** Replaces the served domains with these, each accepting any local part: {@code example.org,example.net}. */
    static final String DOMAINS_ENV = "BACKSTOP_DOMAINS";
    /**
     * The per-domain keys from the environment: one variable per setting, {@code domain=value} pairs separated by
     * commas, for domains served by the file or {@code BACKSTOP_DOMAINS}:
     * {@code BACKSTOP_DOMAIN_ROUTE=example.org=mail.internal:25,example.net=10.0.0.5:25}. A domain's recipients are
     * separated by spaces: {@code BACKSTOP_DOMAIN_RECIPIENTS=example.org=alice bob}.
     */
    static final Map<String, String> DOMAIN_SETTING_ENV = Map.of(
            "BACKSTOP_DOMAIN_ROUTE", "route",
            "BACKSTOP_DOMAIN_RECIPIENTS", "recipients",
            "BACKSTOP_DOMAIN_RECIPIENTS_FILE", "recipients-file",
            "BACKSTOP_DOMAIN_RECIPIENT_CHECK", "recipient-check",
            "BACKSTOP_DOMAIN_TLS", "tls",
            "BACKSTOP_DOMAIN_TLS_FINGERPRINTS", "tls-fingerprints",
            "BACKSTOP_DOMAIN_ETRN_FROM", "etrn-from",
            "BACKSTOP_DOMAIN_ACCEPT", "accept");
    /** {@code routes.<domain>} from the environment: {@code BACKSTOP_ROUTES=example.com=relay.internal:25,...}. */
    static final String ROUTES_ENV = "BACKSTOP_ROUTES";

    /** Not configuration keys: the command line and start scripts use these, so they are not "unknown". */
    static final Set<String> IGNORED_ENV = Set.of("BACKSTOP_CONFIG", "BACKSTOP_OPTS", "BACKSTOP_JAVA_OPTS", "BACKSTOP_LOG_LEVEL");

    private ConfigKeys() {
    }

    /**
     * Every key the loader knows, with {@code <name>} and {@code <domain>} standing for a domain:
     * the fixed keys, {@code domains.<name>.route}, {@code domains.<name>.recipients},
     * {@code domains.<name>.recipients-file}, {@code domains.<name>.recipient-check}, {@code domains.<name>.tls},
     * {@code domains.<name>.tls-fingerprints}, {@code domains.<name>.etrn-from}, {@code domains.<name>.accept} and
     * {@code routes.<domain>}.
     */
    public static List<String> all() {
        List<String> perDomain = new ArrayList<>();
        for (String s : DOMAIN_SETTINGS) {
            perDomain.add(DOMAINS + ".<name>." + s);
        }
        perDomain.add(ROUTES + ".<domain>");
        List<String> all = new ArrayList<>(FIXED);
        all.addAll(all.indexOf("queue.path"), perDomain); // where the example file has them, after smtp
        return Collections.unmodifiableList(all);
    }

    /** {@code smtp.max-message-size} → {@code BACKSTOP_SMTP_MAX_MESSAGE_SIZE}. */
    public static String envName(String key) {
        return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** Environment variable → fixed key. */
    static Map<String, String> byEnvName() {
        Map<String, String> m = new LinkedHashMap<>();
        for (String key : FIXED) {
            m.put(envName(key), key);
        }
        return m;
    }

    /** Every variable the loader reads, for "did you mean" and for checking deployment files. */
    public static Set<String> environmentNames() {
        Set<String> names = new java.util.TreeSet<>(byEnvName().keySet());
        names.add(DOMAINS_ENV);
        names.add(ROUTES_ENV);
        names.addAll(DOMAIN_SETTING_ENV.keySet());
        names.addAll(IGNORED_ENV);
        return names;
    }

    /** Whether {@code key} is a section that holds fixed keys ({@code smtp}, {@code smtp.tls}, ...). */
    static boolean isSection(String key) {
        return FIXED.stream().anyMatch(k -> k.startsWith(key + "."));
    }

    /** A known name close to a mistyped one ({@code smtp.lisen} → {@code smtp.listen}), for the error message. */
    static Optional<String> closest(String typo, Iterable<String> known) {
        String best = null;
        int bestDistance = 3; // farther than two edits is a different word, not a typo
        for (String k : known) {
            int d = editDistance(typo, k);
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        return Optional.ofNullable(best);
    }

    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitute = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(substitute, Math.min(prev[j], cur[j - 1]) + 1);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
