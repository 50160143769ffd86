package org.backstopmx.app.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.backstopmx.app.config.Configs.load;
import static org.backstopmx.app.config.Configs.problems;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.backstopmx.core.config.AcceptConfig;
import org.backstopmx.core.config.AcceptMode;
import org.backstopmx.core.config.AddressRange;
import org.backstopmx.core.config.AdminConfig;
import org.backstopmx.core.config.AtExpiry;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.CalloutConfig;
import org.backstopmx.core.config.DeliveryConfig;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.core.config.DnsListMatch;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.HostPort;
import org.backstopmx.core.config.MetricsConfig;
import org.backstopmx.core.config.ProbeConfig;
import org.backstopmx.core.config.ProxyProtocol;
import org.backstopmx.core.config.QueueConfig;
import org.backstopmx.core.config.RecipientCheck;
import org.backstopmx.core.config.RetryConfig;
import org.backstopmx.core.config.ScreenConfig.DnsList;
import org.backstopmx.core.config.ScreenConfig;
import org.backstopmx.core.config.SmtpConfig;
import org.backstopmx.core.config.TlsConfig;
import org.backstopmx.core.config.TlsMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    @Test
    void noFileAndNoEnvironmentGiveTheEmbeddedDefaults() throws Exception {
        BackstopConfig config = ConfigLoader.load(Optional.empty(), Map.of("PATH", "/usr/bin", "HOME", "/root"));

        assertThat(config).isEqualTo(BackstopConfig.defaults());
        assertThat(config.servedDomains()).containsExactly("example.test");
        assertThat(config.smtp().listen()).isEqualTo(new HostPort("127.0.0.1", 2525));
        assertThat(config.queue().path()).isEqualTo(Path.of("data"));
    }

    @Test
    void anEmptyFileGivesTheEmbeddedDefaults() throws Exception {
        assertThat(load(dir, "")).isEqualTo(BackstopConfig.defaults());
        assertThat(load(dir, "# nothing but a comment\n")).isEqualTo(BackstopConfig.defaults());
    }

    @Test
    void aFileSettingEveryKeyFillsEveryField() throws Exception {
        Path cert = Files.writeString(dir.resolve("tls.crt"), "cert");
        Path key = Files.writeString(dir.resolve("tls.key"), "key");
        Path recipients = Files.writeString(dir.resolve("example.org.recipients"), "carol@example.org\n");
        Path token = Files.writeString(dir.resolve("admin.token"), "secret");
        String yaml = """
                hostname: mx2.example.org
                self-names: [mx3.example.org, MX4.example.org]
                smtp:
                  listen: 0.0.0.0:25
                  max-message-size: 20MB
                  max-recipients: 50
                  recipient-overshoot-limit: 200
                  max-connections: 400
                  max-connections-per-ip: 10
                  idle-timeout: 2m
                  max-command-line-length: 1KB
                  max-line-length: 32KB
                  max-errors: 5
                  max-received-headers: 30
                  worker-threads: 8
                  postmaster: Hostmaster@Example.ORG
                  tls: { certificate: %s, key: %s }
                  proxy-protocol: V2
                  proxy-trusted: [10.0.0.0/8, "2001:db8::7"]
                domains:
                  Example.ORG:
                    route: mail.example.org:2525
                    recipients: [Alice, bob]
                    recipients-file: %s
                    tls: REQUIRED
                    accept: When-Primary-Down
                  example.net:
                routes:
                  bounce.example: 10.0.0.5:25
                  ipv6.example: "[::1]:26"
                queue:
                  path: /var/lib/backstop
                  lifetime: 3d
                  min-free-space: 1GB
                  compact-ratio: 2.5
                  compact-min-size: 16MB
                  expiry-warning: 12h
                  at-expiry: hold
                retry: { min-backoff: 1m, max-backoff: 2h }
                probe: { interval: 10s }
                accept: { down-after: 3 }
                delivery:
                  concurrency: 5
                  connection-reuse-time: 0s
                  connect-timeout: 10s
                  command-timeout: 1m
                  data-timeout: 3m
                  tls: none
                  delay-warning: 4h
                  bounce-size-limit: 100KB
                dns: { server: 127.0.0.53:53, timeout: 2s }
                metrics: { listen: 0.0.0.0:9100 }
                admin: { listen: 127.0.0.1:0, token-file: %s }
                """.formatted(cert, key, recipients, token);

        BackstopConfig config = load(dir, yaml);

        assertThat(config).isEqualTo(new BackstopConfig(
                "mx2.example.org",
                List.of("mx3.example.org", "mx4.example.org"),
                new SmtpConfig(new HostPort("0.0.0.0", 25), 20L << 20, 50, 200, 400, 10, Duration.ofMinutes(2), 1024,
                        32 * 1024, 5, 30, 8, "Hostmaster@example.org", new TlsConfig(cert, key),
                        ProxyProtocol.V2, List.of(AddressRange.parse("10.0.0.0/8"), AddressRange.parse("2001:db8::7"))),
                Map.of("example.org", new DomainConfig("example.org", new HostPort("mail.example.org", 2525),
                                Set.of("alice", "bob"), recipients, TlsMode.REQUIRED)
                                .withAccept(AcceptMode.WHEN_PRIMARY_DOWN),
                        "example.net", DomainConfig.acceptAll("example.net")),
                Map.of("bounce.example", new HostPort("10.0.0.5", 25), "ipv6.example", new HostPort("::1", 26)),
                new QueueConfig(Path.of("/var/lib/backstop"), Duration.ofDays(3), 1L << 30, 2.5, 16L << 20,
                        Duration.ofHours(12), AtExpiry.HOLD),
                new RetryConfig(Duration.ofMinutes(1), Duration.ofHours(2)),
                new ProbeConfig(Duration.ofSeconds(10)),
                new AcceptConfig(3),
                new DeliveryConfig(5, Duration.ZERO, Duration.ofSeconds(10), Duration.ofMinutes(1),
                        Duration.ofMinutes(3), TlsMode.NONE, Duration.ofHours(4), 100L << 10),
                new DnsConfig(new HostPort("127.0.0.53", 53), Duration.ofSeconds(2)),
                new MetricsConfig(new HostPort("0.0.0.0", 9100)),
                new AdminConfig(new HostPort("127.0.0.1", 0), null, token)));
    }

    @Test
    void dnsListsAreMappingsOrZoneNames() throws Exception {
        BackstopConfig config = load(dir, """
                screen:
                  dnsbl:
                    - {zone: Zen.Spamhaus.ORG., weight: 2, match: "127.0.0.[2..11]"}
                    - bl.example
                  dnswl:
                    - zone: list.dnswl.org
                      match: "127.0.[0..255].[1;2;3]"
                  threshold: 3
                  action: TempFail
                  trusted: [203.0.113.25]
                  greet-delay: 2s
                """);

        ScreenConfig screen = config.screen();
        assertThat(screen.dnsbl()).containsExactly(
                new DnsList("zen.spamhaus.org", 2, DnsListMatch.parse("127.0.0.[2..11]")),
                new DnsList("bl.example", 1, DnsListMatch.any()));
        assertThat(screen.dnswl()).containsExactly(
                new DnsList("list.dnswl.org", 1, DnsListMatch.parse("127.0.[0..255].[1;2;3]")));
        assertThat(screen.threshold()).isEqualTo(3);
        assertThat(screen.action()).isEqualTo(ScreenConfig.Action.TEMPFAIL);
        assertThat(screen.trusted()).containsExactly(AddressRange.parse("203.0.113.25"));
        assertThat(screen.greetDelay()).isEqualTo(java.time.Duration.ofSeconds(2));
    }

    @Test
    void keysLeftOutKeepTheirDefaults() throws Exception {
        BackstopConfig config = load(dir, "smtp:\n  max-recipients: 7\n");

        assertThat(config.smtp().maxRecipients()).isEqualTo(7);
        assertThat(config.smtp()).usingRecursiveComparison().ignoringFields("maxRecipients")
                .isEqualTo(SmtpConfig.defaults());
        assertThat(config.withSmtp(SmtpConfig.defaults())).isEqualTo(BackstopConfig.defaults());
    }

    @Test
    void domainsInTheFileReplaceTheDefaultDomain() throws Exception {
        BackstopConfig config = load(dir, "domains:\n  example.org:\n");

        assertThat(config.domains()).containsOnlyKeys("example.org");
        assertThat(config.domains().get("example.org")).isEqualTo(DomainConfig.acceptAll("example.org"));
    }

    @Test
    void domainsMayBeAPlainListOfNames() throws Exception {
        BackstopConfig config = load(dir, "domains: [example.org, Example.NET]\n");

        assertThat(config.domains()).containsOnlyKeys("example.org", "example.net");
        assertThat(config.domains().values()).noneMatch(DomainConfig::validatesRecipients);
    }

    @Test
    void listsMayBeWrittenAsOneCommaSeparatedString() throws Exception {
        BackstopConfig config = load(dir, """
                self-names: "mx3.example.org, mx4.example.org"
                domains:
                  example.org: { recipients: "alice, bob" }
                """);

        assertThat(config.selfNames()).containsExactly("mx3.example.org", "mx4.example.org");
        assertThat(config.domains().get("example.org").recipients()).containsExactlyInAnyOrder("alice", "bob");
    }

    @Test
    void emptyOptionalKeysStayUnset() throws Exception {
        BackstopConfig config = load(dir, """
                self-names:
                smtp:
                  tls:
                dns:
                  server:
                delivery:
                  delay-warning:
                admin:
                  token: ''
                  token-file:
                routes:
                """);

        assertThat(config).isEqualTo(BackstopConfig.defaults());
    }

    @Test
    void aDomainsTlsFallsBackToDeliveryTls() throws Exception {
        BackstopConfig config = load(dir, """
                delivery: { tls: required }
                domains:
                  example.org: { tls: none }
                  example.net: { tls: Opportunistic }
                  example.com:
                  example.info: { tls: }
                """);

        assertThat(config.delivery().tls()).isEqualTo(TlsMode.REQUIRED);
        assertThat(config.domains().get("example.org").tls()).isEqualTo(TlsMode.NONE);
        assertThat(config.domains().get("example.com").tls()).isNull();
        assertThat(config.domains().get("example.info").tls()).isNull();
        assertThat(config.tlsFor("example.org")).isEqualTo(TlsMode.NONE);
        assertThat(config.tlsFor("Example.NET")).isEqualTo(TlsMode.OPPORTUNISTIC);
        assertThat(config.tlsFor("example.com")).isEqualTo(TlsMode.REQUIRED);
        assertThat(config.tlsFor("not-served.example")).isEqualTo(TlsMode.REQUIRED);
    }

    @Test
    void theDelayWarningIsOffByDefaultAndMayBeTurnedOffInEveryWay() throws Exception {
        assertThat(BackstopConfig.defaults().delivery().delayWarning()).isEqualTo(Duration.ZERO);
        assertThat(BackstopConfig.defaults().delivery().warnsOfDelay()).isFalse();
        for (String off : List.of("off", "OFF", "\"off\"", "0", "0s", "PT0S", "false", "''")) {
            BackstopConfig config = load(dir, "delivery: { delay-warning: " + off + " }\n");
            assertThat(config.delivery().delayWarning()).as(off).isEqualTo(Duration.ZERO);
            assertThat(config.delivery().warnsOfDelay()).as(off).isFalse();
        }
        BackstopConfig on = load(dir, "delivery: { delay-warning: 4h }\n");
        assertThat(on.delivery().delayWarning()).isEqualTo(Duration.ofHours(4));
        assertThat(on.delivery().warnsOfDelay()).isTrue();
    }

    @Test
    void durationsUpTo24DaysAndAReuseTimeOfZeroAreAccepted() throws Exception {
        BackstopConfig config = load(dir, """
                delivery:
                  connection-reuse-time: 0s
                  connect-timeout: 24d
                  command-timeout: 1ms
                  data-timeout: PT576H
                  concurrency: 1000
                  bounce-size-limit: 0
                """);

        assertThat(config.delivery()).isEqualTo(new DeliveryConfig(1000, Duration.ZERO, Duration.ofDays(24),
                Duration.ofMillis(1), Duration.ofDays(24), TlsMode.OPPORTUNISTIC, Duration.ZERO, 0));
        assertThat(config.withDelivery(DeliveryConfig.defaults())).isEqualTo(BackstopConfig.defaults());
    }

    @Test
    void recipientCheckAndCalloutKeys() throws Exception {
        BackstopConfig config = load(dir, """
                domains:
                  example.org: { recipient-check: callout }
                  example.net: { recipients: [alice] }
                  example.com:
                callout:
                  timeout: 3s
                  max-sessions: 2
                  positive-ttl: 7d
                  negative-ttl: 10m
                  unknown-when-down: ACCEPT
                """);
        assertThat(config.domains().get("example.org").recipientCheck()).isEqualTo(RecipientCheck.CALLOUT);
        assertThat(config.domains().get("example.net").recipientCheck()).isEqualTo(RecipientCheck.LIST);
        assertThat(config.domains().get("example.com").recipientCheck()).isEqualTo(RecipientCheck.NONE);
        assertThat(config.calloutDomains()).containsExactly("example.org");
        assertThat(config.callout()).isEqualTo(new CalloutConfig(Duration.ofSeconds(3), 2, Duration.ofDays(7),
                Duration.ofMinutes(10), CalloutConfig.UnknownWhenDown.ACCEPT));
        assertThat(load(dir, "").callout()).isEqualTo(CalloutConfig.defaults());
    }

    @Test
    void unknownKeysAreErrorsWithASuggestion() {
        assertThat(problems(dir, """
                hostnmae: mx.example.org
                smtp:
                  lisen: 0.0.0.0:25
                  tls: { cert: /x }
                queue:
                  compaction: true
                delivery:
                  concurency: 5
                domains:
                  example.org: { rout: "mail.example.org:25" }
                colour: blue
                """)).containsExactly(
                "hostnmae: unknown key (did you mean hostname?)",
                "smtp.lisen: unknown key (did you mean smtp.listen?)",
                "smtp.tls.cert: unknown key",
                "queue.compaction: unknown key",
                "delivery.concurency: unknown key (did you mean delivery.concurrency?)",
                "domains.example.org.rout: unknown key (did you mean domains.example.org.route?)",
                "colour: unknown key");
    }

    @Test
    void tlsLevelsVerifyAndFingerprintWithPins() throws Exception {
        String pin = "AB:".repeat(31) + "AB";
        BackstopConfig config = load(dir, """
                delivery:
                  tls: verify
                domains:
                  example.org:
                    tls: fingerprint
                    tls-fingerprints: ["%s", "%s"]
                  example.com:
                """.formatted(pin, "cd".repeat(32)));
        assertThat(config.tlsFor("example.com")).isEqualTo(TlsMode.VERIFY);
        assertThat(config.tlsFor("example.org")).isEqualTo(TlsMode.FINGERPRINT);
        assertThat(config.domains().get("example.org").tlsFingerprints())
                .containsExactly("ab".repeat(32), "cd".repeat(32));
    }

    @Test
    void fingerprintWithoutPinsOrWithABadPinIsAnError() {
        assertThat(problems(dir, """
                delivery:
                  tls: fingerprint
                domains:
                  example.org:
                    tls: fingerprint
                  example.net:
                    tls: fingerprint
                    tls-fingerprints: [abc]
                """)).anySatisfy(p -> assertThat(p).startsWith("delivery.tls: fingerprint needs pins"))
                .anySatisfy(p -> assertThat(p).startsWith("domains.example.org.tls-fingerprints: must list"))
                .anySatisfy(p -> assertThat(p).startsWith("domains.example.net.tls-fingerprints")
                        .contains("must be a SHA-256"));
    }

    @Test
    void valuesOfTheWrongShapeAreErrors() {
        assertThat(problems(dir, """
                smtp: 25
                queue:
                  path: [a, b]
                domains:
                  example.org: mail.example.org
                routes: [example.net]
                """)).containsExactly(
                "smtp: expected a mapping of keys under it, got \"25\"",
                "queue.path: expected a single value, got a list (quote IPv6 addresses: \"[::1]:25\")",
                "domains.example.org: expected the domain's settings (route, recipients, recipients-file, recipient-check, tls, tls-fingerprints, etrn-from, accept) or nothing, "
                        + "got \"mail.example.org\"",
                "routes: expected a mapping of domain to host:port, got a list");
    }

    @Test
    void aMissingFileIsAnErrorNamingIt() {
        Path missing = dir.resolve("nope.yaml");

        assertThatThrownBy(() -> ConfigLoader.load(Optional.of(missing), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage(missing + ": configuration file not found");
    }

    @Test
    void malformedYamlIsOneErrorWithTheLine() {
        List<String> problems = problems(dir, "smtp:\n  listen: [0.0.0.0:25\nqueue: {\n");

        assertThat(problems).singleElement().asString()
                .endsWith(".yaml: not valid YAML: while parsing a flow sequence: expected ',' or ']', but got : "
                        + "(line 3, column 6)");
    }

    @Test
    void aKeyGivenTwiceIsAnError() {
        assertThat(problems(dir, "smtp:\n  max-errors: 5\n  max-errors: 6\n"))
                .singleElement().asString().endsWith(".yaml: key \"max-errors\" appears twice in the same mapping (line 3, column 15)");
    }

    @Test
    void relativePathsStayRelativeToTheWorkingDirectory() throws Exception {
        assertThat(load(dir, "queue: { path: spool-here }").queue().path()).isEqualTo(Path.of("spool-here"));
    }
}
