package org.backstopmx.smtpin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import org.backstopmx.core.Metrics;
import org.backstopmx.core.Metrics.RejectReason;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.testkit.RecordingMailQueue;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The SMTP meters, read from the server's registry after real sessions over 127.0.0.1. */
class SmtpMetricsTest {
    private static final Map<String, DomainConfig> DOMAINS = Map.of(
            "example.test", DomainConfig.acceptAll("example.test"),
            "second.test", DomainConfig.acceptAll("second.test"),
            "listed.test", new DomainConfig("listed.test", null, Set.of("alice"), null));

    private static ServerFixture server(int maxConn, Duration idle, int maxErrors) throws Exception {
        return new ServerFixture(ServerFixture.config(10_000, 3, maxConn, maxConn, idle, 600, 2000, maxErrors, 3), DOMAINS);
    }

    private static ServerFixture defaults() throws Exception {
        return server(10, Duration.ofMinutes(5), 100);
    }

    private static double counter(MeterRegistry registry, String name) {
        return registry.get(name).counter().count();
    }

    private static double received(MeterRegistry registry, String domain) {
        return registry.get(Metrics.SMTP_MESSAGES_RECEIVED).tag("domain", domain).counter().count();
    }

    private static double rejections(MeterRegistry registry, RejectReason reason) {
        return registry.get(Metrics.SMTP_REJECTIONS).tag("reason", reason.tag()).counter().count();
    }

    private static double active(MeterRegistry registry) {
        return registry.get(Metrics.SMTP_CONNECTIONS_ACTIVE).gauge().value();
    }

    /** Every reason series holds the count given here, all others 0. */
    private static void assertRejections(MeterRegistry registry, Object... reasonsAndCounts) {
        Map<RejectReason, Double> expected = new EnumMap<>(RejectReason.class);
        for (int i = 0; i < reasonsAndCounts.length; i += 2) {
            expected.put((RejectReason) reasonsAndCounts[i], ((Number) reasonsAndCounts[i + 1]).doubleValue());
        }
        Map<RejectReason, Double> actual = new EnumMap<>(RejectReason.class);
        for (RejectReason r : RejectReason.values()) {
            expected.putIfAbsent(r, 0.0);
            actual.put(r, rejections(registry, r));
        }
        assertThat(actual).isEqualTo(expected);
    }

    private static void message(SmtpTranscript t, String... recipients) throws Exception {
        assertThat(t.command("MAIL FROM:<sender@s.test>")).startsWith("250");
        for (String r : recipients) {
            assertThat(t.command("RCPT TO:<" + r + ">")).startsWith("250");
        }
        assertThat(t.command("DATA")).startsWith("354");
        t.sendRaw("Subject: counted\r\n\r\nbody\r\n.\r\n");
        assertThat(t.reply()).startsWith("250 2.0.0");
    }

    private static void data(SmtpTranscript t, String raw) throws Exception {
        assertThat(t.command("MAIL FROM:<sender@s.test>")).startsWith("250");
        assertThat(t.command("RCPT TO:<x@example.test>")).startsWith("250");
        assertThat(t.command("DATA")).startsWith("354");
        t.sendRaw(raw);
    }

    @Test
    void everySeriesExistsAtZeroFromTheStart() throws Exception {
        try (ServerFixture fx = defaults()) {
            MeterRegistry registry = fx.registry;
            assertRejections(registry);
            assertThat(counter(registry, Metrics.SMTP_SESSIONS)).isZero();
            assertThat(counter(registry, Metrics.SMTP_BYTES_RECEIVED)).isZero();
            assertThat(active(registry)).isZero();
            for (String domain : DOMAINS.keySet()) {
                assertThat(received(registry, domain)).isZero();
            }
            // the domain tag takes the served domains only
            assertThat(registry.find(Metrics.SMTP_MESSAGES_RECEIVED).counters()).hasSize(DOMAINS.size());
        }
    }

    @Test
    void sessionsMessagesPerDomainAndBytes() throws Exception {
        try (ServerFixture fx = defaults()) {
            try (SmtpTranscript t = fx.client()) {
                message(t, "a@example.test");
                // two recipients at one domain count once for it; one at another counts for that one
                message(t, "b@example.test", "c@EXAMPLE.TEST", "d@second.test");
                assertThat(t.command("QUIT")).startsWith("221");
            }
            try (SmtpTranscript t = fx.client()) {
                message(t, "e@second.test");
                // refused after the dot: not received
                data(t, "Subject: bare\r\n\r\na\n.\nb\r\n.\r\n");
                assertThat(t.reply()).startsWith("554 5.5.2");
                assertThat(t.command("QUIT")).startsWith("221");
            }
            try (SmtpTranscript t = fx.client()) {
                assertThat(t.command("QUIT")).startsWith("221");
            }
            MeterRegistry registry = fx.registry;
            assertThat(counter(registry, Metrics.SMTP_SESSIONS)).isEqualTo(3);
            assertThat(received(registry, "example.test")).isEqualTo(2);
            assertThat(received(registry, "second.test")).isEqualTo(2);
            assertThat(received(registry, "listed.test")).isZero();
            assertThat(fx.queue.stored()).hasSize(3);
            long stored = fx.queue.stored().stream().mapToLong(s -> s.body().length).sum();
            assertThat(fx.queue.stored()).allSatisfy(s -> assertThat(s.envelope().size()).isEqualTo(s.body().length));
            assertThat(counter(registry, Metrics.SMTP_BYTES_RECEIVED)).isEqualTo(stored);
            assertRejections(registry, RejectReason.BARE_LINE_FEED, 1);
        }
    }

    @Test
    void activeConnectionsRiseWhileConnectedAndFallAfterQuit() throws Exception {
        try (ServerFixture fx = defaults()) {
            SmtpTranscript first = fx.client();
            SmtpTranscript second = fx.client();
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(active(fx.registry)).isEqualTo(2));
            assertThat(first.command("QUIT")).startsWith("221");
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(active(fx.registry)).isEqualTo(1));
            assertThat(second.command("QUIT")).startsWith("221");
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(active(fx.registry)).isZero());
            first.close();
            second.close();
            assertThat(counter(fx.registry, Metrics.SMTP_SESSIONS)).isEqualTo(2);
        }
    }

    @ParameterizedTest(name = "RCPT TO:<{0}> -> {1} {2}")
    @CsvSource({
        "x@elsewhere.test,   550 5.7.1, RELAY_DENIED",
        "x%y@example.test,   550 5.7.1, RELAY_DENIED",
        "mallory@listed.test, 550 5.1.1, UNKNOWN_RECIPIENT",
    })
    void refusedRecipients(String rcpt, String reply, RejectReason reason) throws Exception {
        try (ServerFixture fx = defaults(); SmtpTranscript t = fx.client()) {
            assertThat(t.command("MAIL FROM:<sender@s.test>")).startsWith("250");
            assertThat(t.command("RCPT TO:<" + rcpt + ">")).startsWith(reply);
            assertRejections(fx.registry, reason, 1);
        }
    }

    @Test
    void tooManyRecipients() throws Exception {
        try (ServerFixture fx = defaults(); SmtpTranscript t = fx.client()) {
            assertThat(t.command("MAIL FROM:<sender@s.test>")).startsWith("250");
            for (int i = 0; i < 3; i++) {
                assertThat(t.command("RCPT TO:<r" + i + "@example.test>")).startsWith("250");
            }
            assertThat(t.command("RCPT TO:<r3@example.test>")).startsWith("452 4.5.3");
            assertThat(t.command("RCPT TO:<r4@example.test>")).startsWith("452 4.5.3");
            assertRejections(fx.registry, RejectReason.TOO_MANY_RECIPIENTS, 2);
        }
    }

    @Test
    void messageTooLargeAtMailAndAfterTheDot() throws Exception {
        try (ServerFixture fx = defaults(); SmtpTranscript t = fx.client()) {
            assertThat(t.command("MAIL FROM:<sender@s.test> SIZE=10001")).startsWith("552 5.3.4");
            data(t, "Subject: big\r\n\r\n" + ("y".repeat(998) + "\r\n").repeat(11) + ".\r\n");
            assertThat(t.reply()).startsWith("552 5.3.4");
            assertRejections(fx.registry, RejectReason.MESSAGE_TOO_LARGE, 2);
            assertThat(received(fx.registry, "example.test")).isZero();
            assertThat(counter(fx.registry, Metrics.SMTP_BYTES_RECEIVED)).isZero();
        }
    }

    @Test
    void bareLineFeedLineTooLongAndLoop() throws Exception {
        try (ServerFixture fx = defaults(); SmtpTranscript t = fx.client()) {
            data(t, "Subject: bare\r\n\r\nhello\n.\r\nmore\r\n.\r\n");
            assertThat(t.reply()).startsWith("554 5.5.2");
            assertRejections(fx.registry, RejectReason.BARE_LINE_FEED, 1);
            data(t, "Subject: wide\r\n\r\n" + "w".repeat(3000) + "\r\n.\r\n");
            assertThat(t.reply()).startsWith("554 5.6.0");
            assertRejections(fx.registry, RejectReason.BARE_LINE_FEED, 1, RejectReason.LINE_TOO_LONG, 1);
            data(t, "Received: from a\r\nReceived: from b\r\nReceived: from c\r\nReceived: from d\r\n\r\nloop\r\n.\r\n");
            assertThat(t.reply()).startsWith("554 5.4.6");
            assertRejections(fx.registry, RejectReason.BARE_LINE_FEED, 1, RejectReason.LINE_TOO_LONG, 1,
                    RejectReason.MAIL_LOOP, 1);
            assertThat(fx.queue.stored()).isEmpty();
        }
    }

    @Test
    void storage() throws Exception {
        try (ServerFixture fx = defaults(); SmtpTranscript t = fx.client()) {
            RecordingMailQueue queue = fx.queue;
            queue.setFull(true);
            assertThat(t.command("MAIL FROM:<sender@s.test> SIZE=100")).startsWith("452 4.3.1");
            queue.setFull(false);
            queue.failCommitsWith(QueueException.Kind.STORAGE_ERROR);
            data(t, "Subject: lost\r\n\r\nbody\r\n.\r\n");
            assertThat(t.reply()).startsWith("451 4.3.0");
            assertRejections(fx.registry, RejectReason.STORAGE, 2);
        }
    }

    @Test
    void connectionLimit() throws Exception {
        try (ServerFixture fx = server(1, Duration.ofMinutes(5), 100); SmtpTranscript first = fx.client()) {
            try (SmtpTranscript second = new SmtpTranscript(fx.address())) {
                assertThat(second.reply()).startsWith("421 4.7.0");
                assertThat(second.closedByServer()).isTrue();
            }
            assertRejections(fx.registry, RejectReason.CONNECTION_LIMIT, 1);
            // every accepted connection is a session, the refused one included
            assertThat(counter(fx.registry, Metrics.SMTP_SESSIONS)).isEqualTo(2);
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(active(fx.registry)).isEqualTo(1));
        }
    }

    @Test
    void idleTimeout() throws Exception {
        try (ServerFixture fx = server(10, Duration.ofMillis(300), 100);
                SmtpTranscript t = new SmtpTranscript(fx.address(), 5_000)) {
            assertThat(t.reply()).startsWith("220");
            assertThat(t.reply()).startsWith("421 4.4.2");
            assertRejections(fx.registry, RejectReason.IDLE_TIMEOUT, 1);
        }
    }

    @Test
    void syntaxErrors() throws Exception {
        try (ServerFixture fx = defaults(); SmtpTranscript t = fx.client()) {
            assertThat(t.command("FOO")).startsWith("500");
            assertThat(t.command("NOOP " + "x".repeat(700))).startsWith("500 5.5.2");
            assertThat(t.command("MAIL FROM:<sender@s.test> SIZE=ten")).startsWith("501 5.5.4");
            assertThat(t.command("RCPT TO:<x@example.test>")).startsWith("503");
            assertThat(t.command("DATA")).startsWith("503");
            assertThat(t.command("MAIL FROM:<sender@s.test>")).startsWith("250");
            assertThat(t.command("MAIL FROM:<sender@s.test>")).startsWith("503");
            assertRejections(fx.registry, RejectReason.SYNTAX, 6);
            assertThat(t.command("EXPN staff")).startsWith("502");
            assertRejections(fx.registry, RejectReason.SYNTAX, 6, RejectReason.OTHER, 1);
        }
    }

    @Test
    void tooManyErrors() throws Exception {
        try (ServerFixture fx = server(10, Duration.ofMinutes(5), 3); SmtpTranscript t = fx.client()) {
            assertThat(t.command("FOO")).startsWith("500");
            assertThat(t.command("BAR")).startsWith("500");
            assertThat(t.command("BAZ")).startsWith("500");
            assertThat(t.reply()).startsWith("421 4.7.0");
            assertRejections(fx.registry, RejectReason.SYNTAX, 3, RejectReason.TOO_MANY_ERRORS, 1);
        }
    }

    @Test
    void domainsAddedByAReloadGetTheirSeries() throws Exception {
        try (ServerFixture fx = defaults()) {
            fx.server.reloadDomains(Map.of("third.test", DomainConfig.acceptAll("third.test")));
            assertThat(received(fx.registry, "third.test")).isZero();
            try (SmtpTranscript t = fx.client()) {
                message(t, "x@third.test");
            }
            assertThat(received(fx.registry, "third.test")).isEqualTo(1);
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "550 5.7.1 Relay access denied                             | RELAY_DENIED",
        "550 5.1.1 Recipient address rejected: user unknown        | UNKNOWN_RECIPIENT",
        "452 4.5.3 Too many recipients                             | TOO_MANY_RECIPIENTS",
        "552 5.3.4 Message size exceeds fixed maximum message size | MESSAGE_TOO_LARGE",
        "554 5.6.0 Message refused: a line is longer than 2000 bytes | LINE_TOO_LONG",
        "554 5.5.2 Message refused: bare <LF>                      | BARE_LINE_FEED",
        "554 5.4.6 Too many Received: headers                      | MAIL_LOOP",
        "451 4.3.0 Queue write failed, try again later             | STORAGE",
        "452 4.3.1 Insufficient system storage, try again later    | STORAGE",
        "451 4.3.0 Local error processing the command, try again later | OTHER",
        "500 5.5.2 Command line too long                           | SYNTAX",
        "500 5.5.1 Command not recognized                          | SYNTAX",
        "501 Syntax error                                          | SYNTAX",
        "503-5.5.1 Need MAIL first                                 | SYNTAX",
        "553 5.1.3 Syntax error in recipient address               | SYNTAX",
        "554 5.5.0 Protocol synchronization error                  | SYNTAX",
        "554 5.5.1 No valid recipients                             | SYNTAX",
        "452 4.7.1 Too many messages from your address or network this minute, try again later | RATE_LIMIT",
        "450 4.7.1 Greylisted: this sender is new here, try again in a few minutes | GREYLISTED",
        "450 4.7.1 Mail for example.test is taken by its primary mx1.example.test now | STANDBY",
        "502 5.5.1 EXPN is not available                           | OTHER",
        "459 4.7.1 example.test: not a domain we hold mail for     | OTHER",
        "421 4.3.0 Internal error, closing connection              | OTHER",
        "5                                                         | OTHER",
    })
    void replyCodesToReasons(String reply, RejectReason reason) {
        assertThat(SmtpMetrics.reasonOf((reply + "\r\n").getBytes(StandardCharsets.US_ASCII))).isEqualTo(reason);
    }
}
