package org.backstopmx.app.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.backstopmx.app.config.Configs.load;
import static org.backstopmx.app.config.Configs.problems;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import org.backstopmx.core.config.AcceptMode;
import org.backstopmx.core.config.AddressRange;
import org.backstopmx.core.config.AtExpiry;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.DnsListMatch;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.HostPort;
import org.backstopmx.core.config.ProxyProtocol;
import org.backstopmx.core.config.RecipientCheck;
import org.backstopmx.core.config.GreylistMode;
import org.backstopmx.core.config.ScreenConfig.DnsList;
import org.backstopmx.core.config.ScreenConfig;
import org.backstopmx.core.config.SpfPolicy;
import org.backstopmx.core.config.TlsConfig;
import org.backstopmx.core.config.TlsMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class EnvironmentOverridesTest {
    @TempDir
    Path dir;

    /** One row per fixed key: the environment, what it changes, and to what. */
    static Stream<Arguments> overrides() {
        return Stream.of(
                row(Map.of("BACKSTOP_HOSTNAME", "mx9.example.org"), BackstopConfig::hostname, "mx9.example.org"),
                row(Map.of("BACKSTOP_SELF_NAMES", "mx2.example.org, MX3.example.org"), BackstopConfig::selfNames,
                        List.of("mx2.example.org", "mx3.example.org")),
                row(Map.of("BACKSTOP_SMTP_LISTEN", "0.0.0.0:25"), c -> c.smtp().listen(), new HostPort("0.0.0.0", 25)),
                row(Map.of("BACKSTOP_SMTP_MAX_MESSAGE_SIZE", "10MB"), c -> c.smtp().maxMessageSize(), 10L << 20),
                row(Map.of("BACKSTOP_SMTP_MAX_RECIPIENTS", "7"), c -> c.smtp().maxRecipients(), 7),
                row(Map.of("BACKSTOP_SMTP_RECIPIENT_OVERSHOOT_LIMIT", "0"), c -> c.smtp().recipientOvershootLimit(), 0),
                row(Map.of("BACKSTOP_SMTP_MAX_CONNECTIONS", "70"), c -> c.smtp().maxConnections(), 70),
                row(Map.of("BACKSTOP_SMTP_MAX_CONNECTIONS_PER_IP", "3"), c -> c.smtp().maxConnectionsPerIp(), 3),
                row(Map.of("BACKSTOP_SMTP_IDLE_TIMEOUT", "90s"), c -> c.smtp().idleTimeout(), Duration.ofSeconds(90)),
                row(Map.of("BACKSTOP_SMTP_MAX_COMMAND_LINE_LENGTH", "1000"), c -> c.smtp().maxCommandLineLength(), 1000),
                row(Map.of("BACKSTOP_SMTP_MAX_LINE_LENGTH", "1MB"), c -> c.smtp().maxLineLength(), 1 << 20),
                row(Map.of("BACKSTOP_SMTP_MAX_ERRORS", "3"), c -> c.smtp().maxErrors(), 3),
                row(Map.of("BACKSTOP_SMTP_MAX_RECEIVED_HEADERS", "25"), c -> c.smtp().maxReceivedHeaders(), 25),
                row(Map.of("BACKSTOP_SMTP_WORKER_THREADS", "4"), c -> c.smtp().workerThreads(), 4),
                row(Map.of("BACKSTOP_SMTP_POSTMASTER", "root@example.test"), c -> c.smtp().postmaster(), "root@example.test"),
                row(Map.of("BACKSTOP_SMTP_TLS_CERTIFICATE", "/etc/b/tls.crt", "BACKSTOP_SMTP_TLS_KEY", "/etc/b/tls.key"),
                        c -> c.smtp().tls(), new TlsConfig(Path.of("/etc/b/tls.crt"), Path.of("/etc/b/tls.key"))),
                row(Map.of("BACKSTOP_SMTP_PROXY_PROTOCOL", "v1", "BACKSTOP_SMTP_PROXY_TRUSTED", "10.0.0.0/8, 2001:db8::/48"),
                        c -> List.of(c.smtp().proxyProtocol(), c.smtp().proxyTrusted()),
                        List.of(ProxyProtocol.V1, List.of(AddressRange.parse("10.0.0.0/8"), AddressRange.parse("2001:db8::/48")))),
                row(Map.of("BACKSTOP_SMTP_RECORD_DEADLINE", "2m"), c -> c.smtp().recordDeadline(), Duration.ofMinutes(2)),
                row(Map.of("BACKSTOP_SMTP_STRESS_RECORD_DEADLINE", "15s"), c -> c.smtp().stressRecordDeadline(),
                        Duration.ofSeconds(15)),
                row(Map.of("BACKSTOP_QUEUE_PATH", "/var/lib/backstop"), c -> c.queue().path(),
                        Path.of("/var/lib/backstop")),
                row(Map.of("BACKSTOP_QUEUE_LIFETIME", "2d"), c -> c.queue().lifetime(), Duration.ofDays(2)),
                row(Map.of("BACKSTOP_QUEUE_MIN_FREE_SPACE", "2GB"), c -> c.queue().minFreeSpace(), 2L << 30),
                row(Map.of("BACKSTOP_QUEUE_COMPACT_RATIO", "3"), c -> c.queue().compactRatio(), 3.0),
                row(Map.of("BACKSTOP_QUEUE_COMPACT_MIN_SIZE", "1MB"), c -> c.queue().compactMinSize(), 1L << 20),
                row(Map.of("BACKSTOP_RETRY_MIN_BACKOFF", "1m"), c -> c.retry().minBackoff(), Duration.ofMinutes(1)),
                row(Map.of("BACKSTOP_RETRY_MAX_BACKOFF", "4h"), c -> c.retry().maxBackoff(), Duration.ofHours(4)),
                row(Map.of("BACKSTOP_PROBE_INTERVAL", "PT1M"), c -> c.probe().interval(), Duration.ofMinutes(1)),
                row(Map.of("BACKSTOP_ACCEPT_DOWN_AFTER", "4"), c -> c.accept().downAfter(), 4),
                row(Map.of("BACKSTOP_QUEUE_EXPIRY_WARNING", "6h"), c -> c.queue().expiryWarning(), Duration.ofHours(6)),
                row(Map.of("BACKSTOP_QUEUE_AT_EXPIRY", "hold"), c -> c.queue().atExpiry(), AtExpiry.HOLD),
                row(Map.of("BACKSTOP_QUEUE_TYPE", "postgresql", "BACKSTOP_QUEUE_URL", "jdbc:postgresql://db:5432/mx",
                        "BACKSTOP_QUEUE_USERNAME", "backstop", "BACKSTOP_QUEUE_NODE_ID", "mx2a",
                        "BACKSTOP_QUEUE_LEASE_TIME", "2h"),
                        c -> java.util.Arrays.asList(c.queue().type(), c.queue().url(), c.queue().username(),
                                c.queue().nodeId(), c.queue().leaseTime()),
                        List.of(org.backstopmx.core.config.QueueType.POSTGRESQL, "jdbc:postgresql://db:5432/mx",
                                "backstop", "mx2a", Duration.ofHours(2))),
                row(Map.of("BACKSTOP_QUEUE_PASSWORD_FILE", "/run/secrets/db"), c -> c.queue().passwordFile(),
                        Path.of("/run/secrets/db")),
                row(Map.of("BACKSTOP_DELIVERY_CONCURRENCY", "4"), c -> c.delivery().concurrency(), 4),
                row(Map.of("BACKSTOP_DELIVERY_CONNECTION_REUSE_TIME", "0s"), c -> c.delivery().connectionReuseTime(),
                        Duration.ZERO),
                row(Map.of("BACKSTOP_DELIVERY_CONNECT_TIMEOUT", "10s"), c -> c.delivery().connectTimeout(),
                        Duration.ofSeconds(10)),
                row(Map.of("BACKSTOP_DELIVERY_COMMAND_TIMEOUT", "2m"), c -> c.delivery().commandTimeout(),
                        Duration.ofMinutes(2)),
                row(Map.of("BACKSTOP_DELIVERY_DATA_TIMEOUT", "1h"), c -> c.delivery().dataTimeout(), Duration.ofHours(1)),
                row(Map.of("BACKSTOP_DELIVERY_TLS", "required"), c -> c.delivery().tls(), TlsMode.REQUIRED),
                row(Map.of("BACKSTOP_DELIVERY_TLS_CA_FILE", "/etc/b/ca.pem"), c -> c.delivery().tlsCaFile(),
                        Path.of("/etc/b/ca.pem")),
                row(Map.of("BACKSTOP_DELIVERY_DELAY_WARNING", "4h"), c -> c.delivery().delayWarning(),
                        Duration.ofHours(4)),
                row(Map.of("BACKSTOP_DELIVERY_BOUNCE_SIZE_LIMIT", "64KB"), c -> c.delivery().bounceSizeLimit(),
                        64L << 10),
                row(Map.of("BACKSTOP_DNS_SERVER", "[::1]:53"), c -> c.dns().server(), new HostPort("::1", 53)),
                row(Map.of("BACKSTOP_DNS_TRUST_ANCHOR_FILE", "/usr/share/dns/root.key"), c -> c.dns().trustAnchorFile(),
                        Path.of("/usr/share/dns/root.key")),
                row(Map.of("BACKSTOP_DNS_TRUST_AD", "true"), c -> c.dns().trustAd(), true),
                row(Map.of("BACKSTOP_SCREEN_DNSBL", "zone=zen.spamhaus.org weight=2 match=127.0.0.[2..11], bl.example"),
                        c -> c.screen().dnsbl(), List.of(
                                new DnsList("zen.spamhaus.org", 2, DnsListMatch.parse("127.0.0.[2..11]")),
                                new DnsList("bl.example", 1, DnsListMatch.any()))),
                row(Map.of("BACKSTOP_SCREEN_DNSWL", "zone=list.dnswl.org weight=3"), c -> c.screen().dnswl(),
                        List.of(new DnsList("list.dnswl.org", 3, DnsListMatch.any()))),
                row(Map.of("BACKSTOP_SCREEN_THRESHOLD", "3"), c -> c.screen().threshold(), 3),
                row(Map.of("BACKSTOP_SCREEN_ACTION", "tempfail"), c -> c.screen().action(), ScreenConfig.Action.TEMPFAIL),
                row(Map.of("BACKSTOP_SCREEN_TRUSTED", "203.0.113.25, 2001:db8::/48"), c -> c.screen().trusted(),
                        List.of(AddressRange.parse("203.0.113.25"), AddressRange.parse("2001:db8::/48"))),
                row(Map.of("BACKSTOP_SCREEN_GREET_DELAY", "2s"), c -> c.screen().greetDelay(), Duration.ofSeconds(2)),
                row(Map.of("BACKSTOP_SCREEN_RATE_CONNECTIONS_PER_CLIENT", "0"),
                        c -> c.screen().rate().connectionsPerClient(), 0),
                row(Map.of("BACKSTOP_SCREEN_RATE_CONNECTIONS_PER_NETWORK", "500"),
                        c -> c.screen().rate().connectionsPerNetwork(), 500),
                row(Map.of("BACKSTOP_SCREEN_RATE_MESSAGES_PER_CLIENT", "30"), c -> c.screen().rate().messagesPerClient(),
                        30),
                row(Map.of("BACKSTOP_SCREEN_RATE_MESSAGES_PER_NETWORK", "100"),
                        c -> c.screen().rate().messagesPerNetwork(), 100),
                row(Map.of("BACKSTOP_SCREEN_GREYLIST", "on"), c -> c.screen().greylist(), GreylistMode.ON),
                row(Map.of("BACKSTOP_SCREEN_GREYLIST_DELAY", "10m"), c -> c.screen().greylistDelay(),
                        Duration.ofMinutes(10)),
                row(Map.of("BACKSTOP_SCREEN_GREYLIST_RETRY_WINDOW", "2d"), c -> c.screen().greylistRetryWindow(),
                        Duration.ofDays(2)),
                row(Map.of("BACKSTOP_SCREEN_GREYLIST_LIFETIME", "60d"), c -> c.screen().greylistLifetime(),
                        Duration.ofDays(60)),
                row(Map.of("BACKSTOP_SCREEN_SPF", "enforce"), c -> c.screen().spf(), SpfPolicy.ENFORCE),
                row(Map.of("BACKSTOP_SCREEN_BOUNCE_ONLY_SPF_PASS", "true"), c -> c.screen().bounceOnlySpfPass(),
                        true),
                row(Map.of("BACKSTOP_DNS_TIMEOUT", "500ms"), c -> c.dns().timeout(), Duration.ofMillis(500)),
                row(Map.of("BACKSTOP_METRICS_LISTEN", "0.0.0.0:9100"), c -> c.metrics().listen(),
                        new HostPort("0.0.0.0", 9100)),
                row(Map.of("BACKSTOP_ADMIN_LISTEN", "127.0.0.1:0"), c -> c.admin().listen(),
                        new HostPort("127.0.0.1", 0)),
                row(Map.of("BACKSTOP_ADMIN_TOKEN", "s3cret"), c -> c.admin().token(), "s3cret"),
                row(Map.of("BACKSTOP_ADMIN_TOKEN_FILE", "/run/secrets/admin"), c -> c.admin().tokenFile(),
                        Path.of("/run/secrets/admin")),
                row(Map.of("BACKSTOP_CALLOUT_TIMEOUT", "3s"), c -> c.callout().timeout(), Duration.ofSeconds(3)),
                row(Map.of("BACKSTOP_CALLOUT_MAX_SESSIONS", "2"), c -> c.callout().maxSessions(), 2),
                row(Map.of("BACKSTOP_CALLOUT_POSITIVE_TTL", "7d"), c -> c.callout().positiveTtl(), Duration.ofDays(7)),
                row(Map.of("BACKSTOP_CALLOUT_NEGATIVE_TTL", "5m"), c -> c.callout().negativeTtl(),
                        Duration.ofMinutes(5)),
                row(Map.of("BACKSTOP_CALLOUT_UNKNOWN_WHEN_DOWN", "accept"), c -> c.callout().unknownWhenDown(),
                        org.backstopmx.core.config.CalloutConfig.UnknownWhenDown.ACCEPT));
    }

    private static Arguments row(Map<String, String> env, Function<BackstopConfig, Object> field, Object expected) {
        return Arguments.of(env, field, expected);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("overrides")
    void eachKeyCanBeSetFromTheEnvironment(Map<String, String> env, Function<BackstopConfig, Object> field,
                                           Object expected) throws Exception {
        BackstopConfig config = ConfigLoader.load(Optional.empty(), env, FileCheck.NONE);

        assertThat(field.apply(config)).isEqualTo(expected);
        assertThat(field.apply(config)).isNotEqualTo(field.apply(BackstopConfig.defaults()));
    }

    @Test
    @SuppressWarnings("unchecked")
    void theTableCoversEveryFixedKey() {
        Set<String> covered = new HashSet<>();
        overrides().forEach(a -> covered.addAll(((Map<String, String>) a.get()[0]).keySet()));

        assertThat(covered).containsExactlyInAnyOrderElementsOf(
                ConfigKeys.FIXED.stream().map(ConfigKeys::envName).toList());
    }

    @Test
    void environmentNamesFollowTheRule() {
        assertThat(ConfigKeys.envName("smtp.listen")).isEqualTo("BACKSTOP_SMTP_LISTEN");
        assertThat(ConfigKeys.envName("smtp.max-connections-per-ip")).isEqualTo("BACKSTOP_SMTP_MAX_CONNECTIONS_PER_IP");
        assertThat(ConfigKeys.envName("smtp.tls.certificate")).isEqualTo("BACKSTOP_SMTP_TLS_CERTIFICATE");
        assertThat(ConfigKeys.byEnvName()).hasSameSizeAs(ConfigKeys.FIXED); // no two keys share a variable
    }

    @Test
    void theEnvironmentBeatsTheFile() throws Exception {
        BackstopConfig config = load(dir, "smtp: { listen: 127.0.0.1:2626, max-errors: 9 }\n",
                Map.of("BACKSTOP_SMTP_LISTEN", "0.0.0.0:25"));

        assertThat(config.smtp().listen()).isEqualTo(new HostPort("0.0.0.0", 25));
        assertThat(config.smtp().maxErrors()).isEqualTo(9);
    }

    @Test
    void backstopDomainsReplacesTheServedDomainsWithAcceptAllOnes() throws Exception {
        BackstopConfig config = load(dir, "domains:\n  example.com: { recipients: [alice] }\n",
                Map.of("BACKSTOP_DOMAINS", "example.org, Example.NET"));

        assertThat(config.domains()).isEqualTo(Map.of(
                "example.org", DomainConfig.acceptAll("example.org"),
                "example.net", DomainConfig.acceptAll("example.net")));
    }

    @Test
    void perDomainSettingsAndRoutesComeAsDomainValuePairs() throws Exception {
        Path rcpts = dir.resolve("example.net.txt");
        Files.writeString(rcpts, "carol@example.net\n");
        BackstopConfig config = load(dir, "domains:\n  example.org: { route: old.example.org:25 }\n"
                        + "routes:\n  example.com: relay.example.com:25\n",
                Map.of("BACKSTOP_DOMAINS", "example.org,example.net",
                        "BACKSTOP_DOMAIN_ROUTE", "example.org=mail.internal:2525, Example.NET=10.0.0.5:25",
                        "BACKSTOP_DOMAIN_RECIPIENTS", "example.org=alice bob",
                        "BACKSTOP_DOMAIN_RECIPIENTS_FILE", "example.net=" + rcpts,
                        "BACKSTOP_DOMAIN_TLS", "example.org=required",
                        "BACKSTOP_DOMAIN_RECIPIENT_CHECK", "example.org=callout",
                        "BACKSTOP_DOMAIN_ETRN_FROM", "example.net=198.51.100.0/24 2001:db8::7",
                        "BACKSTOP_DOMAIN_ACCEPT", "example.net=when-primary-down",
                        "BACKSTOP_ROUTES", "example.com=relay.internal:25,example.info=10.0.0.9:2525"));

        DomainConfig org = config.domains().get("example.org");
        assertThat(org.route()).isEqualTo(new HostPort("mail.internal", 2525));
        assertThat(org.tls(TlsMode.OPPORTUNISTIC)).isEqualTo(TlsMode.REQUIRED);
        assertThat(config.domains().get("example.net").route()).isEqualTo(new HostPort("10.0.0.5", 25));
        assertThat(config.routes()).containsEntry("example.com", new HostPort("relay.internal", 25))
                .containsEntry("example.info", new HostPort("10.0.0.9", 2525));
        assertThat(org.recipients()).containsExactlyInAnyOrder("alice", "bob");
        assertThat(config.domains().get("example.net").recipientsFile()).isEqualTo(rcpts);
        assertThat(config.domains().get("example.net").etrnFrom()).extracting(Object::toString)
                .containsExactly("198.51.100.0/24", "2001:db8:0:0:0:0:0:7/128");
        assertThat(org.etrnFrom()).isEmpty();
        assertThat(config.domains().get("example.net").accept()).isEqualTo(AcceptMode.WHEN_PRIMARY_DOWN);
        assertThat(org.accept()).isEqualTo(AcceptMode.ALWAYS);
        assertThat(org.recipientCheck()).isEqualTo(RecipientCheck.CALLOUT);
        assertThat(config.domains().get("example.net").recipientCheck())
                .isEqualTo(RecipientCheck.LIST);
    }

    @Test
    void etrnFromTakesAddressesAndPrefixesAndNamesTheKeyOfABadOne() throws Exception {
        BackstopConfig config = load(dir, "domains:\n  example.org: { etrn-from: [203.0.113.7, \"2001:db8::/48\"] }\n",
                Map.of());
        assertThat(config.domains().get("example.org").etrnFrom()).extracting(Object::toString)
                .containsExactly("203.0.113.7/32", "2001:db8:0:0:0:0:0:0/48");
        assertThat(problems(dir, "domains:\n  example.org: { etrn-from: mail.example.org }\n", Map.of()))
                .singleElement().asString().startsWith("domains.example.org.etrn-from: expected an IP address");
    }

    @Test
    void perDomainVariablesForDomainsThatAreNotServedOrWithoutPairsAreErrors() {
        assertThat(problems(dir, "domains:\n  example.org: {}\n", Map.of(
                "BACKSTOP_DOMAIN_ROUTE", "example.com=mail.internal:25",
                "BACKSTOP_DOMAIN_TLS", "required",
                "BACKSTOP_DOMAIN_RUOTE", "example.org=x:25")))
                .containsExactlyInAnyOrder(
                        "BACKSTOP_DOMAIN_ROUTE: example.com is not a served domain (name it under domains: or in"
                                + " BACKSTOP_DOMAINS)",
                        "BACKSTOP_DOMAIN_TLS: expected domain=value pairs separated by commas, got \"required\"",
                        "BACKSTOP_DOMAIN_RUOTE: unknown environment variable (did you mean BACKSTOP_DOMAIN_ROUTE?)");
    }

    @Test
    void anEmptyVariableUnsetsAnOptionalKey() throws Exception {
        BackstopConfig config = load(dir, "dns: { server: 127.0.0.53:53 }\n", Map.of("BACKSTOP_DNS_SERVER", ""));

        assertThat(config.dns().server()).isNull();
    }

    @Test
    void anEmptyDelayWarningVariableTurnsTheNoticeOff() throws Exception {
        BackstopConfig config = load(dir, "delivery: { delay-warning: 4h }\n",
                Map.of("BACKSTOP_DELIVERY_DELAY_WARNING", ""));

        assertThat(config.delivery().delayWarning()).isEqualTo(Duration.ZERO);
    }

    @Test
    void variablesThatAreNotOursAreIgnored() throws Exception {
        Map<String, String> env = Map.of(
                "PATH", "/usr/bin",
                "SMTP_LISTEN", "nonsense",
                "BACKSTOP_CONFIG", "/etc/backstop/backstop.yaml",
                "BACKSTOP_OPTS", "-v",
                "BACKSTOP_JAVA_OPTS", "-Xmx256m");

        assertThat(ConfigLoader.load(Optional.empty(), env)).isEqualTo(BackstopConfig.defaults());
    }

    @Test
    void unknownBackstopVariablesAreErrors() {
        assertThat(problems(dir, null, Map.of("BACKSTOP_SMTP_LISEN", "0.0.0.0:25", "BACKSTOP_COLOUR", "blue")))
                .containsExactly(
                        "BACKSTOP_COLOUR: unknown environment variable",
                        "BACKSTOP_SMTP_LISEN: unknown environment variable (did you mean BACKSTOP_SMTP_LISTEN?)");
    }

    @Test
    void badDeliveryValuesNameTheKeyAndTheVariable() {
        assertThat(problems(dir, null, Map.of("BACKSTOP_DELIVERY_TLS", "always", "BACKSTOP_DELIVERY_CONCURRENCY", "0",
                "BACKSTOP_DELIVERY_DELAY_WARNING", "6d")))
                .containsExactlyInAnyOrder(
                        "delivery.concurrency: must be a number from 1 to 1000, got \"0\" (from BACKSTOP_DELIVERY_CONCURRENCY)",
                        "delivery.tls: must be one of none, opportunistic, required, verify, fingerprint, mta-sts, dane, got \"always\" (from BACKSTOP_DELIVERY_TLS)",
                        "delivery.delay-warning: must be shorter than queue.lifetime (PT120H), or off, got PT144H");
    }

    @Test
    void badValuesNameTheKeyAndTheVariable() {
        assertThat(problems(dir, null, Map.of("BACKSTOP_SMTP_MAX_RECIPIENTS", "-1", "BACKSTOP_DOMAINS", "")))
                .containsExactly(
                        "smtp.max-recipients: must be a positive number, got \"-1\" (from BACKSTOP_SMTP_MAX_RECIPIENTS)",
                        "domains: at least one domain must be served");
    }
}
