package org.backstopmx.smtpin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.backstopmx.core.EtrnService;
import org.backstopmx.core.Metrics;
import org.backstopmx.core.PrimaryCapabilities;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.RateConfig;
import org.backstopmx.core.config.ScreenConfig;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.Test;

/** Every configurable limit, answered with its standard code. */
class LimitsTest {
    private static final Map<String, DomainConfig> DOMAINS = Map.of("example.test", DomainConfig.acceptAll("example.test"));

    private static ServerFixture server(long maxSize, int maxRcpt, int maxConn, int maxPerIp, Duration idle,
            int maxCommand, int maxLine, int maxErrors, int maxReceived) throws Exception {
        // the connection limits are tested here, with far more connections a minute than screen.rate.* allows
        return new ServerFixture(ServerFixture.config(maxSize, maxRcpt, maxConn, maxPerIp, idle, maxCommand, maxLine,
                maxErrors, maxReceived), DOMAINS, (domain, client) -> EtrnService.Result.UNAVAILABLE,
                PrimaryCapabilities.UNKNOWN, ScreenConfig.defaults().withRate(RateConfig.off()), DnsConfig.defaults());
    }

    private static ServerFixture defaults() throws Exception {
        return server(10_000, 3, 10, 10, Duration.ofMinutes(5), 600, 2000, 100, 3);
    }

    @Test
    void declaredSizeOverTheLimit() throws Exception {
        try (ServerFixture fx = defaults(); SmtpTranscript t = fx.client()) {
            assertThat(t.command("MAIL FROM:<a@s.test> SIZE=10001")).startsWith("552 5.3.4");
            assertThat(t.command("MAIL FROM:<a@s.test> SIZE=99999999999")).startsWith("552 5.3.4");
            assertThat(t.command("MAIL FROM:<a@s.test> SIZE=9999999999999999999")).startsWith("552 5.3.4");
            assertThat(t.command("MAIL FROM:<a@s.test> SIZE=999999999999999999999999")).startsWith("552 5.3.4");
            assertThat(t.command("MAIL FROM:<a@s.test> SIZE=-5")).startsWith("501 5.5.4");
            assertThat(t.command("MAIL FROM:<a@s.test> SIZE=ten")).startsWith("501 5.5.4");
            assertThat(t.command("MAIL FROM:<a@s.test> SIZE=10000")).startsWith("250 2.1.0");
        }
    }

    @Test
    void messageOverTheLimitIsRefusedAfterTheDot() throws Exception {
        try (ServerFixture fx = defaults(); SmtpTranscript t = fx.client()) {
            t.command("MAIL FROM:<a@s.test>");
            t.command("RCPT TO:<x@example.test>");
            assertThat(t.command("DATA")).startsWith("354");
            String line = "y".repeat(998) + "\r\n";
            t.sendRaw("Subject: big\r\n\r\n" + line.repeat(11) + ".\r\n");
            assertThat(t.reply()).startsWith("552 5.3.4");
            SmtpSessionTest.sendSimple(t);
            assertThat(t.reply()).startsWith("250 2.0.0");
            assertThat(fx.queue.stored()).hasSize(1);
        }
    }

    @Test
    void tooManyRecipients() throws Exception {
        try (ServerFixture fx = defaults(); SmtpTranscript t = fx.client()) {
            t.command("MAIL FROM:<a@s.test>");
            for (int i = 0; i < 3; i++) {
                assertThat(t.command("RCPT TO:<r" + i + "@example.test>")).startsWith("250");
            }
            assertThat(t.command("RCPT TO:<r4@example.test>")).startsWith("452 4.5.3");
        }
    }

    @Test
    void pipelinedRecipientsOverTheLimitAreNotErrorsAndTheAcceptedOnesGetTheMessage() throws Exception {
        // 3 recipients at most, 5 errors end a session: 20 extra RCPTs written at once must not end it
        try (ServerFixture fx = server(10_000, 3, 10, 10, Duration.ofMinutes(5), 600, 2000, 5, 3);
                SmtpTranscript t = fx.client()) {
            StringBuilder pipeline = new StringBuilder("MAIL FROM:<a@s.test>\r\n");
            for (int i = 0; i < 23; i++) {
                pipeline.append("RCPT TO:<r").append(i).append("@example.test>\r\n");
            }
            t.sendRaw(pipeline.append("DATA\r\n").toString());
            assertThat(t.reply()).startsWith("250 2.1.0");
            for (int i = 0; i < 3; i++) {
                assertThat(t.reply()).startsWith("250 2.1.5");
            }
            for (int i = 3; i < 23; i++) {
                assertThat(t.reply()).as("RCPT %d", i).startsWith("452 4.5.3");
            }
            assertThat(t.reply()).startsWith("354");
            t.sendRaw("Subject: s\r\n\r\nbody\r\n.\r\n");
            assertThat(t.reply()).startsWith("250 2.0.0");
            assertThat(fx.queue.stored()).singleElement().satisfies(m -> assertThat(m.envelope().recipients())
                    .extracting(r -> r.address()).containsExactly("r0@example.test", "r1@example.test", "r2@example.test"));
            // the overshoot is counted per transaction: the next one may overshoot again
            t.command("MAIL FROM:<a@s.test>");
            for (int i = 0; i < 3; i++) {
                assertThat(t.command("RCPT TO:<n" + i + "@example.test>")).startsWith("250");
            }
            for (int i = 0; i < 10; i++) {
                assertThat(t.command("RCPT TO:<m" + i + "@example.test>")).startsWith("452 4.5.3");
            }
            assertThat(t.command("NOOP")).startsWith("250");
        }
    }

    @Test
    void recipientsBeyondTheOvershootLimitCountAsErrors() throws Exception {
        // overshoot limit 2, 3 errors end a session: extra RCPTs 1 and 2 are free, 3, 4 and 5 are errors
        try (ServerFixture fx = new ServerFixture(ServerFixture.config(10_000, 3, 2, 10, 10, Duration.ofMinutes(5), 600,
                2000, 3, 3), DOMAINS); SmtpTranscript t = fx.client()) {
            t.command("MAIL FROM:<a@s.test>");
            for (int i = 0; i < 3; i++) {
                assertThat(t.command("RCPT TO:<r" + i + "@example.test>")).startsWith("250");
            }
            for (int i = 3; i < 7; i++) {
                assertThat(t.command("RCPT TO:<r" + i + "@example.test>")).as("RCPT %d", i).startsWith("452 4.5.3");
            }
            assertThat(t.command("RCPT TO:<r7@example.test>")).startsWith("452 4.5.3");
            assertThat(t.reply()).startsWith("421 4.7.0");
            assertThat(t.closedByServer()).isTrue();
        }
    }

    @Test
    void connectionsInTotalAndPerAddress() throws Exception {
        try (ServerFixture fx = server(10_000, 3, 3, 2, Duration.ofMinutes(5), 600, 2000, 100, 3)) {
            List<SmtpTranscript> open = new ArrayList<>();
            try {
                for (int i = 0; i < 2; i++) {
                    open.add(fx.client());
                }
                try (SmtpTranscript third = new SmtpTranscript(fx.address())) {
                    assertThat(third.reply()).startsWith("421 4.7.0");
                    assertThat(third.closedByServer()).isTrue();
                }
            } finally {
                for (SmtpTranscript t : open) {
                    t.close();
                }
            }
            await().untilAsserted(() -> assertThat(fx.server.activeConnections()).isZero());
            assertThat(fx.client().command("QUIT")).startsWith("221");
        }
        try (ServerFixture fx = server(10_000, 3, 1, 5, Duration.ofMinutes(5), 600, 2000, 100, 3);
                SmtpTranscript first = fx.client();
                SmtpTranscript second = new SmtpTranscript(fx.address())) {
            assertThat(second.reply()).startsWith("421 4.7.0");
        }
    }

    @Test
    void aSenderReconnectingAtOnceIsNotRefusedForItsOwnClosingConnection() throws Exception {
        // limit 2 per address: one session held open, then one message per connection in a tight loop, as Postfix
        // sends; half of them write QUIT and close without waiting for the 221 (smtp_skip_quit_response)
        try (ServerFixture fx = server(10_000, 3, 10, 2, Duration.ofMinutes(5), 600, 2000, 100, 3);
                SmtpTranscript held = fx.client()) {
            for (int i = 0; i < 300; i++) {
                try (SmtpTranscript t = new SmtpTranscript(fx.address())) {
                    assertThat(t.reply()).as("connection %d", i).startsWith("220 ");
                    if (i % 2 == 0) {
                        assertThat(t.command("QUIT")).startsWith("221 2.0.0");
                    } else {
                        t.send("QUIT");
                    }
                }
            }
            try (SmtpTranscript second = fx.client();
                    SmtpTranscript third = new SmtpTranscript(fx.address())) {
                assertThat(third.reply()).startsWith("421 4.7.0");
                assertThat(third.closedByServer()).isTrue();
                assertThat(second.command("NOOP")).startsWith("250");
            }
            assertThat(held.command("NOOP")).startsWith("250");
            assertThat(fx.registry.get(Metrics.SMTP_REJECTIONS)
                    .tag("reason", Metrics.RejectReason.CONNECTION_LIMIT.tag()).counter().count())
                    .isEqualTo(1.0);
        }
    }

    @Test
    void aConnectionOverTheLimitTakesThePlaceOfOneThatEndsMeanwhile() throws Exception {
        try (ServerFixture fx = server(10_000, 3, 10, 1, Duration.ofMinutes(5), 600, 2000, 100, 3)) {
            SmtpTranscript first = fx.client();
            try (SmtpTranscript second = new SmtpTranscript(fx.address())) {
                // counted, waiting without a greeting while the first is open; the first ends within the grace, so
                // the second is let in
                await().until(() -> fx.server.activeConnections() == 2);
                assertThat(second.socket().getInputStream().available()).isZero();
                first.close();
                assertThat(second.reply()).startsWith("220 ");
                assertThat(second.command("EHLO client.test")).startsWith("250");
            }
            await().untilAsserted(() -> assertThat(fx.server.activeConnections()).isZero());
        }
    }

    @Test
    void commandLineTooLong() throws Exception {
        try (ServerFixture fx = defaults(); SmtpTranscript t = fx.client()) {
            assertThat(t.command("NOOP " + "x".repeat(700))).startsWith("500 5.5.2");
            assertThat(t.command("NOOP " + "x".repeat(5000))).startsWith("500 5.5.2");
            assertThat(t.command("NOOP")).startsWith("250");
        }
    }

    @Test
    void dataLineOverTheMaximumFailsTheWholeMessage() throws Exception {
        try (ServerFixture fx = server(1_000_000, 3, 10, 10, Duration.ofMinutes(5), 600, 2000, 100, 3);
                SmtpTranscript t = fx.client()) {
            t.command("MAIL FROM:<a@s.test>");
            t.command("RCPT TO:<x@example.test>");
            assertThat(t.command("DATA")).startsWith("354");
            t.sendRaw("Subject: long\r\n\r\n" + "z".repeat(1500) + "\r\n" + "w".repeat(9000) + "\r\nend\r\n.\r\n");
            assertThat(t.reply()).startsWith("554 5.6.0");
            assertThat(fx.queue.stored()).isEmpty();
            // a line just under the maximum is stored as it is
            t.command("MAIL FROM:<a@s.test>");
            t.command("RCPT TO:<x@example.test>");
            t.command("DATA");
            t.sendRaw("Subject: long\r\n\r\n" + "z".repeat(1998) + "\r\n.\r\n");
            assertThat(t.reply()).startsWith("250 2.0.0");
            assertThat(new String(fx.queue.stored().get(0).body())).endsWith("z".repeat(1998) + "\r\n");
        }
    }

    @Test
    void linesLongerThanJamesFrameLimitAreStoredWhole() throws Exception {
        // James's framer dropped lines over 8192 bytes and still answered 250; real mail has such lines
        try (ServerFixture fx = server(1_000_000, 3, 10, 10, Duration.ofMinutes(5), 600, 65536, 100, 3);
                SmtpTranscript t = fx.client()) {
            t.command("MAIL FROM:<a@s.test>");
            t.command("RCPT TO:<x@example.test>");
            t.command("DATA");
            String line = "q".repeat(20_000) + "\r\n";
            t.sendRaw("Subject: wide\r\n\r\n" + line + "..dot " + line + ".\r\n");
            assertThat(t.reply()).startsWith("250 2.0.0");
            assertThat(new String(fx.queue.stored().get(0).body())).endsWith("\r\n\r\n" + line + ".dot " + line);
        }
    }

    @Test
    void tooManyReceivedHeadersIsALoop() throws Exception {
        try (ServerFixture fx = defaults(); SmtpTranscript t = fx.client()) {
            t.command("MAIL FROM:<a@s.test>");
            t.command("RCPT TO:<x@example.test>");
            t.command("DATA");
            t.sendRaw("Received: from a\r\nreceived: from b\r\nRECEIVED: from c\r\nReceived: from d\r\n\r\nloop\r\n.\r\n");
            assertThat(t.reply()).startsWith("554 5.4.6");
            t.command("MAIL FROM:<a@s.test>");
            t.command("RCPT TO:<x@example.test>");
            t.command("DATA");
            t.sendRaw("Received: from a\r\nReceived: from b\r\nReceived: from c\r\n\r\nReceived: in the body\r\n.\r\n");
            assertThat(t.reply()).startsWith("250 2.0.0");
        }
    }

    @Test
    void idleClientGets421() throws Exception {
        try (ServerFixture fx = server(10_000, 3, 10, 10, Duration.ofMillis(1000), 600, 2000, 100, 3);
                SmtpTranscript t = new SmtpTranscript(fx.address(), 5_000)) {
            assertThat(t.reply()).startsWith("220");
            long start = System.nanoTime();
            assertThat(t.reply()).startsWith("421 4.4.2");
            assertThat(t.closedByServer()).isTrue();
            // fires once, at the setting (James's handler waited for a second idle period)
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(1900));
        }
    }

    @Test
    void tooManyErrorsEndTheSession() throws Exception {
        try (ServerFixture fx = server(10_000, 3, 10, 10, Duration.ofMinutes(5), 600, 2000, 3, 3);
                SmtpTranscript t = fx.client()) {
            assertThat(t.command("FOO")).startsWith("500");
            assertThat(t.command("BAR")).startsWith("500");
            assertThat(t.command("BAZ")).startsWith("500");
            assertThat(t.reply()).startsWith("421 4.7.0");
            assertThat(t.closedByServer()).isTrue();
        }
    }
}
