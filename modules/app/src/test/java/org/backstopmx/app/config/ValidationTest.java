package org.backstopmx.app.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.backstopmx.app.config.Configs.load;
import static org.backstopmx.app.config.Configs.problems;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every rule, broken once: loading reports exactly one problem, and it starts with the key. */
class ValidationTest {
    @TempDir
    Path dir;

    static Stream<Arguments> brokenRules() {
        return Stream.of(
                // recipient verification
                rule("domains: { example.org: { recipient-check: maybe } }",
                        "domains.example.org.recipient-check: must be one of none, list, callout, got \"maybe\""),
                rule("domains: { example.org: { recipient-check: list } }",
                        "domains.example.org.recipient-check: list needs recipients or recipients-file"),
                rule("callout: { unknown-when-down: bounce }",
                        "callout.unknown-when-down: must be tempfail or accept, got \"bounce\""),
                rule("callout: { max-sessions: 0 }", "callout.max-sessions: must be a positive number, got \"0\""),
                rule("callout: { negative-ttl: 0s }", "callout.negative-ttl: must be"),
                rule("callout: { timeout: soon }", "callout.timeout: "),
                // counts and sizes are positive
                rule("smtp: { max-recipients: -1 }", "smtp.max-recipients: must be a positive number, got \"-1\""),
                rule("smtp: { max-recipients: 0 }", "smtp.max-recipients: must be a positive number, got \"0\""),
                rule("smtp: { recipient-overshoot-limit: -1 }",
                        "smtp.recipient-overshoot-limit: must be 0 or a positive number, got \"-1\""),
                rule("smtp: { postmaster: nobody }",
                        "smtp.postmaster: must be an address like postmaster@example.org, got \"nobody\""),
                rule("smtp: { postmaster: \"a@b@example.test\" }", "smtp.postmaster: must be an address like"),
                rule("smtp: { postmaster: postmaster@other.test }",
                        "smtp.postmaster: must be an address at a served domain, got \"postmaster@other.test\""),
                rule("smtp: { max-connections: many }", "smtp.max-connections: must be a positive number, got \"many\""),
                rule("smtp: { max-connections-per-ip: 0 }", "smtp.max-connections-per-ip: must be a positive number"),
                rule("smtp: { max-errors: 1.5 }", "smtp.max-errors: must be a positive number, got \"1.5\""),
                rule("smtp: { max-received-headers: 0 }", "smtp.max-received-headers: must be a positive number"),
                rule("smtp: { worker-threads: 99999999999 }", "smtp.worker-threads: must be a positive number"),
                rule("smtp: { max-message-size: 0 }", "smtp.max-message-size: must be a positive size, got \"0\""),
                rule("smtp: { max-message-size: 50XB }", "smtp.max-message-size: must be a size like 512, 64KB"),
                rule("queue: { min-free-space: -1 }", "queue.min-free-space: must be a size like"),
                rule("queue: { compact-min-size: 1PB }", "queue.compact-min-size: must be a size like"),
                rule("queue: { compact-ratio: 1 }", "queue.compact-ratio: must be a number greater than 1, got \"1\""),
                rule("queue: { compact-ratio: lots }", "queue.compact-ratio: must be a number greater than 1"),
                // durations are positive and have units
                rule("smtp: { idle-timeout: 300 }", "smtp.idle-timeout: must be a duration like 250ms, 30s"),
                rule("smtp: { idle-timeout: 0s }", "smtp.idle-timeout: must be a positive duration, got \"0s\""),
                rule("queue: { lifetime: PT-5M }", "queue.lifetime: must be a positive duration"),
                rule("retry: { min-backoff: 0ms }", "retry.min-backoff: must be a positive duration"),
                rule("retry: { max-backoff: soon }", "retry.max-backoff: must be a duration like"),
                rule("probe: { interval: 0s }", "probe.interval: must be a positive duration"),
                rule("dns: { timeout: 0s }", "dns.timeout: must be a positive duration"),
                // delivery
                rule("delivery: { concurrency: 0 }", "delivery.concurrency: must be a number from 1 to 1000, got \"0\""),
                rule("delivery: { concurrency: 1001 }", "delivery.concurrency: must be a number from 1 to 1000, got \"1001\""),
                rule("delivery: { concurrency: many }", "delivery.concurrency: must be a number from 1 to 1000, got \"many\""),
                rule("delivery: { concurrency: [1, 2] }", "delivery.concurrency: expected a single value, got a list"),
                rule("delivery: { concurrency: }", "delivery.concurrency: must not be empty"),
                rule("delivery: { connection-reuse-time: 2 }", "delivery.connection-reuse-time: must be a duration like"),
                rule("delivery: { connection-reuse-time: PT-1S }",
                        "delivery.connection-reuse-time: must be zero or a positive duration, got \"PT-1S\""),
                rule("delivery: { connection-reuse-time: 25d }", "delivery.connection-reuse-time: must be at most 24d"),
                rule("delivery: { connect-timeout: 0s }", "delivery.connect-timeout: must be a positive duration, got \"0s\""),
                rule("delivery: { connect-timeout: 30 }", "delivery.connect-timeout: must be a duration like 250ms, 30s"),
                rule("delivery: { command-timeout: 24d1ms }", "delivery.command-timeout: must be at most 24d, got \"24d1ms\""),
                rule("delivery: { data-timeout: 25d }", "delivery.data-timeout: must be at most 24d, got \"25d\""),
                rule("delivery: { data-timeout: PT-10M }", "delivery.data-timeout: must be a positive duration"),
                rule("delivery: { tls: always }",
                        "delivery.tls: must be one of none, opportunistic, required, verify, fingerprint, mta-sts, dane, got \"always\""),
                rule("delivery: { tls: true }", "delivery.tls: must be one of none, opportunistic, required, verify, fingerprint, mta-sts, dane, got \"true\""),
                rule("delivery: { tls: }", "delivery.tls: must not be empty"),
                rule("delivery: { tls: dane }", "delivery.tls: dane needs DNSSEC: set dns.trust-anchor-file, or"
                        + " dns.trust-ad: true with dns.server a validating resolver on this host"),
                rule("domains: { example.org: { tls: dane } }", "domains.example.org.tls: dane needs DNSSEC: set"
                        + " dns.trust-anchor-file, or dns.trust-ad: true with dns.server a validating resolver on this host"),
                rule("dns: { trust-ad: yes-please }", "dns.trust-ad: must be true or false, got \"yes-please\""),
                rule("dns: { trust-anchor-file: /etc/hosts, trust-ad: true }", "dns.trust-ad: set"
                        + " dns.trust-anchor-file (validate here) or dns.trust-ad: true (trust the resolver's AD bit), not both"),
                rule("dns: { trust-anchor-file: /nonexistent/root.key }",
                        "dns.trust-anchor-file: file not found: /nonexistent/root.key"),
                rule("domains: { example.org: { tls: yes-please } }",
                        "domains.example.org.tls: must be one of none, opportunistic, required, verify, fingerprint, mta-sts, dane, got \"yes-please\""),
                rule("domains: { example.org: { tls: [none] } }", "domains.example.org.tls: expected a single value"),
                rule("domains: { example.org: { accept: sometimes } }", "domains.example.org.accept: must be one of"
                        + " always, when-primary-down, got \"sometimes\""),
                rule("accept: { down-after: 0 }", "accept.down-after: must be a positive number, got \"0\""),
                rule("queue: { at-expiry: keep }", "queue.at-expiry: must be one of bounce, hold, got \"keep\""),
                rule("queue: { expiry-warning: 0s }", "queue.expiry-warning: must be a positive duration"),

                rule("delivery: { delay-warning: 4 }",
                        "delivery.delay-warning: must be off or a duration like 30m, 4h or 1d, got \"4\""),
                rule("delivery: { delay-warning: never }", "delivery.delay-warning: must be off or a duration like"),
                rule("delivery: { delay-warning: PT-4H }", "delivery.delay-warning: must be off or a positive duration"),
                rule("delivery: { delay-warning: 5d }", "delivery.delay-warning: must be shorter than queue.lifetime "
                        + "(PT120H), or off, got PT120H"),
                rule("delivery: { delay-warning: 4h }\nqueue: { lifetime: 2h }",
                        "delivery.delay-warning: must be shorter than queue.lifetime (PT2H), or off, got PT4H"),
                rule("delivery: { bounce-size-limit: 1XB }", "delivery.bounce-size-limit: must be a size like 512, 64KB"),
                rule("delivery: { bounce-size-limit: -1 }", "delivery.bounce-size-limit: must be a size like"),
                rule("delivery: 20", "delivery: expected a mapping of keys under it, got \"20\""),
                // retry bounds are ordered
                rule("retry: { min-backoff: 2h, max-backoff: 1h }", "retry.min-backoff: must not be longer than "
                        + "retry.max-backoff (PT1H), got PT2H"),
                // line lengths (RFC 5321 §4.5.3.1.4 and §4.5.3.1.6)
                rule("smtp: { max-command-line-length: 511 }", "smtp.max-command-line-length: must be at least 512"),
                rule("smtp: { max-line-length: 999 }", "smtp.max-line-length: must be at least 1000"),
                rule("smtp: { max-command-line-length: 4KB, max-line-length: 2KB }",
                        "smtp.max-line-length: must be at least smtp.max-command-line-length (4096), got 2048"),
                rule("smtp: { max-line-length: 4GB }", "smtp.max-line-length: must be at most 2GB"),
                // addresses and ports
                rule("smtp: { listen: mail.example.org }", "smtp.listen: must be host:port (IPv6 as [addr]:port)"),
                rule("smtp: { listen: \"0.0.0.0:70000\" }", "smtp.listen: port must be 0-65535, got \"0.0.0.0:70000\""),
                rule("smtp: { listen: \"::1:25\" }", "smtp.listen: must be host:port (IPv6 as [addr]:port)"),
                rule("smtp: { listen: \":25\" }", "smtp.listen: must be host:port"),
                rule("metrics: { listen: \"127.0.0.1:-1\" }", "metrics.listen: port must be 0-65535"),
                rule("admin: { listen: \"127.0.0.1:x\" }", "admin.listen: must be host:port"),
                rule("dns: { server: \"127.0.0.1:0\" }", "dns.server: port must be 1-65535"),
                rule("routes: { example.net: \"10.0.0.5:0\" }", "routes.example.net: port must be 1-65535"),
                rule("routes: { example.net: }", "routes.example.net: must not be empty"),
                rule("domains: { example.org: { route: mail.example.org } }",
                        "domains.example.org.route: must be host:port"),
                rule("admin: { listen: \"127.0.0.1:9465\" }",
                        "admin.listen: is the same address as metrics.listen: 127.0.0.1:9465"),
                // names
                rule("hostname: localhost", "hostname: must be a fully qualified name like backstop.example.org"),
                rule("hostname: bad_name.example.org", "hostname: is not a valid domain name"),
                rule("hostname: backstop.example.org.", "hostname: write \"backstop.example.org.\" without the trailing dot"),
                rule("hostname:", "hostname: must not be empty"),
                rule("self-names: [mx2.example.org, \"-mx3.example.org\"]", "self-names: is not a valid domain name"),
                rule("domains: { example.org.: }", "domains.example.org.: write \"example.org.\" without the trailing dot"),
                rule("domains: { 192.0.2.1: }", "domains.192.0.2.1: must be a domain name, not an IP address"),
                rule("domains: { \"[192.0.2.1]\": }", "domains.[192.0.2.1]: must be a domain name, not an IP address"),
                rule("domains: { \"exa mple.org\": }", "domains.exa mple.org: is not a valid domain name"),
                rule("domains: { b\u00fccher.example: }", "domains.b\u00fccher.example: write internationalized names"),
                rule("domains: { a..example: }", "domains.a..example: is not a valid domain name"),
                rule("domains: { " + "a".repeat(64) + ".example: }", "domains." + "a".repeat(64)
                        + ".example: is not a valid domain name"),
                rule("domains: { Example.org: , example.ORG: }", "domains.example.ORG: listed twice"),
                rule("domains: {}", "domains: at least one domain must be served"),
                rule("domains: []", "domains: at least one domain must be served"),
                rule("routes: { bad..name: \"10.0.0.5:25\" }", "routes.bad..name: is not a valid domain name"),
                rule("domains: { example.org: }\nroutes: { example.org: \"10.0.0.5:25\" }",
                        "routes.example.org: example.org is a served domain; set domains.example.org.route instead"),
                // recipients
                rule("domains: { example.org: { recipients: [] } }", "domains.example.org.recipients: an empty list "
                        + "accepts no one; leave the key out to accept any local part"),
                rule("domains: { example.org: { recipients: [alice@example.org] } }",
                        "domains.example.org.recipients: must be a local part like alice (no @domain, no spaces), "
                                + "got \"alice@example.org\""),
                rule("domains: { example.org: { recipients: [" + "x".repeat(65) + "] } }",
                        "domains.example.org.recipients: local parts are at most 64 characters"),
                // files the configuration names must exist
                rule("domains: { example.org: { recipients-file: /nonexistent/example.org } }",
                        "domains.example.org.recipients-file: file not found: /nonexistent/example.org"),
                rule("admin: { token-file: /nonexistent/token }", "admin.token-file: file not found: /nonexistent/token"),
                rule("queue: { type: postgresql, lease-time: 1h }", "queue.url: must be set when queue.type is postgresql"),
                rule("queue: { type: mysql }", "queue.type: must be one of h2, postgresql"),
                rule("queue: { type: postgresql, url: \"jdbc:mysql://db/mx\", lease-time: 1h }",
                        "queue.url: must be a URL like jdbc:postgresql://db.example.org:5432/backstop"),
                // the lease is renewed every third of it, so it need not outlast an attempt, only a hiccup
                rule("queue: { type: postgresql, url: \"jdbc:postgresql://db/mx\", lease-time: 59s }",
                        "queue.lease-time: must be at least 60s (leases are renewed every third of it; shorter, a"
                                + " slow database call could lose a live node's leases), got PT59S"),
                rule("queue: { type: postgresql, url: \"jdbc:postgresql://db/mx\", node-id: \"a b\", lease-time: 1h }",
                        "queue.node-id: must be 1 to 64 printable ASCII characters without spaces"),
                rule("queue: { type: postgresql, url: \"jdbc:postgresql://db/mx\", lease-time: 1h,"
                        + " password-file: /nonexistent/db }", "queue.password-file: file not found: /nonexistent/db"),
                rule("smtp: { tls: { certificate: /nonexistent/c, key: /etc/hosts } }",
                        "smtp.tls.certificate: file not found: /nonexistent/c"),
                // pairs
                // the PROXY protocol: a mode, and only with the load balancers named
                rule("smtp: { proxy-protocol: v3 }", "smtp.proxy-protocol: must be one of off, v1, v2, any, got \"v3\""),
                rule("smtp: { proxy-protocol: on }", "smtp.proxy-protocol: must be one of off, v1, v2, any"),
                rule("smtp: { proxy-protocol: v1 }",
                        "smtp.proxy-trusted: must list the load balancers' addresses or prefixes when smtp.proxy-protocol is v1"),
                rule("smtp: { proxy-protocol: any, proxy-trusted: [] }",
                        "smtp.proxy-trusted: must list the load balancers' addresses or prefixes when smtp.proxy-protocol is any"),
                rule("smtp: { proxy-protocol: v2, proxy-trusted: [lb.example.org] }",
                        "smtp.proxy-trusted: expected an IP address or prefix like 192.0.2.0/24, got \"lb.example.org\""),
                rule("smtp: { proxy-protocol: v2, proxy-trusted: [10.0.0.0/33] }",
                        "smtp.proxy-trusted: prefix length must be 0-32"),
                rule("smtp: { tls: { certificate: /etc/hosts } }",
                        "smtp.tls.key: must be set together with smtp.tls.certificate"),
                rule("smtp: { tls: { key: /etc/hosts } }",
                        "smtp.tls.certificate: must be set together with smtp.tls.key"),
                rule("admin: { token: s3cret, token-file: /etc/hosts }",
                        "admin.token: set admin.token or admin.token-file, not both"),
                rule("queue: { path: '' }", "queue.path: must not be empty"),
                // client screening
                rule("screen: { dnsbl: [{zoen: bl.example}] }",
                        "screen.dnsbl: unknown setting \"zoen\" in \"zoen=bl.example\" (did you mean zone?)"),
                rule("screen: { dnsbl: [{weight: 2}] }", "screen.dnsbl: a list needs its zone"),
                rule("screen: { spf: reject }", "screen.spf: must be one of off, tag, enforce, got \"reject\""),
                rule("screen: { bounce-only-spf-pass: maybe }",
                        "screen.bounce-only-spf-pass: must be true or false, got \"maybe\""),
                rule("screen: { dnsbl: [{zone: bl.example, weight: 0}] }", "screen.dnsbl: must be a positive"),
                rule("screen: { dnswl: [{zone: wl.example, match: '127.0.0.[3..1]'}] }",
                        "screen.dnswl: range 3..1 runs backwards"),
                rule("screen: { dnsbl: [{zone: 'bl example'}] }", "screen.dnsbl: one zone per list"),
                rule("screen: { dnsbl: [{zone: bl.example, match: {a: 1}}] }",
                        "screen.dnsbl: expected a single value for match, got a mapping"),
                rule("screen: { dnsbl: [bl.example], dnswl: [{zone: bl.example}] }",
                        "screen.dnswl: bl.example is listed twice, or also in screen.dnsbl"),
                rule("screen: { threshold: 0 }", "screen.threshold: must be a positive"),
                rule("screen: { action: drop }", "screen.action: must be one of reject, tempfail, got \"drop\""),
                rule("screen: { trusted: [primary.example.org] }", "screen.trusted: expected an IP address or prefix"),
                rule("screen: { greet-delay: 5m }", "screen.greet-delay: must be shorter than smtp.idle-timeout"),
                rule("screen: { greet-delay: 90s }", "screen.greet-delay: must be at most 60s"),
                rule("screen: { rate: { messages-per-client: -1 } }",
                        "screen.rate.messages-per-client: must be 0 or a positive number"),
                rule("screen: { greylist: maybe }", "screen.greylist: must be one of off, on, got \"maybe\""),
                rule("screen: { greylist-delay: 5h }", "screen.greylist-delay: must be shorter than screen.greylist-retry-window"),
                rule("screen: { greylist-lifetime: 1h }", "screen.greylist-lifetime: must be at least screen.greylist-retry-window"));
    }

    private static Arguments rule(String yaml, String expectedPrefix) {
        return Arguments.of(yaml, expectedPrefix);
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("brokenRules")
    void eachBrokenRuleIsReportedWithItsKey(String yaml, String expectedPrefix) {
        assertThat(problems(dir, yaml)).singleElement().asString().startsWith(expectedPrefix);
    }

    @Test
    void theTlsKeyFileIsCheckedToo() throws Exception {
        Path cert = Files.writeString(dir.resolve("tls.crt"), "cert");

        assertThat(problems(dir, "smtp: { tls: { certificate: " + cert + ", key: " + dir.resolve("tls.key") + " } }"))
                .containsExactly("smtp.tls.key: file not found: " + dir.resolve("tls.key"));
    }

    @Test
    void aDirectoryIsNotAFile() {
        assertThat(problems(dir, "admin: { token-file: " + dir + " }"))
                .containsExactly("admin.token-file: not a regular file: " + dir);
    }

    @Test
    void anUnreadableFileIsReported() throws Exception {
        Path file = Files.writeString(dir.resolve("example.org.recipients"), "alice@example.org\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("---------"));
        assumeThat(Files.isReadable(file)).as("running as root: every file is readable").isFalse();

        assertThat(problems(dir, "domains: { example.org: { recipients-file: " + file + " } }"))
                .containsExactly("domains.example.org.recipients-file: file not readable: " + file);
    }

    @Test
    void portZeroIsAllowedForListenersOnly() throws Exception {
        var config = load(dir, """
                smtp: { listen: "127.0.0.1:0" }
                metrics: { listen: "127.0.0.1:0" }
                admin: { listen: "127.0.0.1:0" }
                """);

        assertThat(config.smtp().listen().port()).isZero();
        assertThat(config.metrics().listen().port()).isZero();
        assertThat(config.admin().listen().port()).isZero();
    }

    @Test
    void recipientsMayBeEmptyWhenAFileListsThem() throws Exception {
        Path file = Files.writeString(dir.resolve("example.org.recipients"), "alice@example.org\n");

        var config = load(dir, "domains: { example.org: { recipients: [], recipients-file: " + file + " } }");

        assertThat(config.domains().get("example.org").recipientsFile()).isEqualTo(file);
        assertThat(config.domains().get("example.org").recipients()).isEmpty();
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        String yaml = """
                hostname: localhost
                smtp:
                  lisen: 0.0.0.0:25
                  max-recipients: -1
                  max-message-size: huge
                  idle-timeout: 300
                  max-command-line-length: 100
                domains:
                  example.org:
                    recipients-file: /nonexistent/example.org
                  192.0.2.1:
                retry: { min-backoff: 2h, max-backoff: 1h }
                admin: { token: s3cret, token-file: /nonexistent/token }
                """;

        assertThat(problems(dir, yaml, Map.of("BACKSTOP_QUEUE_PATHS", "/x", "BACKSTOP_PROBE_INTERVAL", "0s")))
                .containsExactlyInAnyOrder(
                        "smtp.lisen: unknown key (did you mean smtp.listen?)",
                        "BACKSTOP_QUEUE_PATHS: unknown environment variable (did you mean BACKSTOP_QUEUE_PATH?)",
                        "hostname: must be a fully qualified name like backstop.example.org, got \"localhost\"",
                        "smtp.max-message-size: must be a size like 512, 64KB, 50MB or 1GB, got \"huge\"",
                        "smtp.max-recipients: must be a positive number, got \"-1\"",
                        "smtp.idle-timeout: must be a duration like 250ms, 30s, 5m, 1h, 5d or PT5M, got \"300\"",
                        "domains.192.0.2.1: must be a domain name, not an IP address, got \"192.0.2.1\"",
                        "probe.interval: must be a positive duration, got \"0s\" (from BACKSTOP_PROBE_INTERVAL)",
                        "smtp.max-command-line-length: must be at least 512 (RFC 5321 §4.5.3.1.4), got 100",
                        "domains.example.org.recipients-file: file not found: /nonexistent/example.org",
                        "retry.min-backoff: must not be longer than retry.max-backoff (PT1H), got PT2H",
                        "admin.token: set admin.token or admin.token-file, not both",
                        "admin.token-file: file not found: /nonexistent/token");
    }

    @Test
    void aBadDomainNameIsReportedOnceAndNotAlsoAsNoDomainAtAll() {
        assertThat(problems(dir, "domains: [192.0.2.1]"))
                .containsExactly("domains.192.0.2.1: must be a domain name, not an IP address, got \"192.0.2.1\"");
        assertThat(problems(dir, "domains: [example.org, 192.0.2.1]\nroutes: { 192.0.2.1: \"10.0.0.5:25\" }"))
                .containsExactly("domains.192.0.2.1: must be a domain name, not an IP address, got \"192.0.2.1\"",
                        "routes.192.0.2.1: must be a domain name, not an IP address, got \"192.0.2.1\"");
    }

    @Test
    void theDelayWarningRuleStaysQuietWhenTheLifetimeIsWrongOrTheWarningOff() throws Exception {
        assertThat(problems(dir, "delivery: { delay-warning: 4h }\nqueue: { lifetime: 0s }"))
                .containsExactly("queue.lifetime: must be a positive duration, got \"0s\"");
        assertThat(load(dir, "delivery: { delay-warning: off }\nqueue: { lifetime: 1h }").delivery().warnsOfDelay())
                .isFalse();
        assertThat(load(dir, "delivery: { delay-warning: 4h }\nqueue: { lifetime: 4h1ms }").delivery().delayWarning())
                .isEqualTo(java.time.Duration.ofHours(4));
    }

    @Test
    void theDefaultLeaseOfTheSharedQueueIsValidWhateverTheDeliveryTimeouts() throws Exception {
        // renewals keep the lease of a running attempt: it need not outlast the attempt (41m with these defaults)
        assertThat(load(dir, "queue: { type: postgresql, url: \"jdbc:postgresql://db/mx\" }").queue().leaseTime())
                .isEqualTo(java.time.Duration.ofMinutes(5));
        assertThat(load(dir, "queue: { type: postgresql, url: \"jdbc:postgresql://db/mx\", lease-time: 1m }\n"
                + "delivery: { data-timeout: 1h }").queue().leaseTime()).isEqualTo(java.time.Duration.ofMinutes(1));
    }

    @Test
    void aRuleBetweenKeysStaysQuietWhenOneOfThemIsAlreadyWrong() {
        assertThat(problems(dir, "retry: { min-backoff: 0s, max-backoff: 1s }"))
                .containsExactly("retry.min-backoff: must be a positive duration, got \"0s\"");
        assertThat(problems(dir, "retry: { min-backoff: 2h, max-backoff: never }"))
                .containsExactly("retry.max-backoff: must be a duration like 250ms, 30s, 5m, 1h, 5d or PT5M, got \"never\"");
    }
}
