package org.backstopmx.smtpin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.backstopmx.core.Metrics;
import org.backstopmx.core.config.AddressRange;
import org.backstopmx.core.config.RateConfig;
import org.backstopmx.core.config.ScreenConfig;
import org.backstopmx.testkit.MutableClock;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.Test;

/**
 * The rate limits of {@code screen.rate.*} over real sockets, each client bound to its own loopback address (all of
 * 127.0.0.0/24 is one network); the minute is moved by a clock, never waited for.
 */
class RateLimitTest {
    private static final String SLOW_DOWN = "421 4.7.0 " + ServerFixture.HOST
            + " Too many connections from your address or network this minute, slow down";

    private final MutableClock clock = MutableClock.startingAt("2026-03-01T10:00:00Z");

    private static ScreenConfig rates(int connectionsPerClient, int connectionsPerNetwork, int messagesPerClient,
            int messagesPerNetwork) {
        return ScreenConfig.defaults().withRate(new RateConfig(connectionsPerClient, connectionsPerNetwork,
                messagesPerClient, messagesPerNetwork));
    }

    /** Connects from {@code local} and returns the first line the server sends; the client is closed. */
    private static String connect(ServerFixture f, String local) throws Exception {
        try (SmtpTranscript t = new SmtpTranscript(f.address(), InetAddress.getByName(local), 10_000)) {
            String first = t.reply();
            if (first.startsWith("220 ")) {
                assertTrue(t.command("QUIT").startsWith("221"));
            } else {
                assertTrue(t.closedByServer(), "closed after " + first);
            }
            return first;
        }
    }

    private static SmtpTranscript session(ServerFixture f, String local) throws Exception {
        SmtpTranscript t = new SmtpTranscript(f.address(), InetAddress.getByName(local), 10_000);
        assertTrue(t.reply().startsWith("220 "));
        assertTrue(t.command("EHLO mta.test").startsWith("250"));
        return t;
    }

    private static double count(ServerFixture f, String result) {
        return f.registry.get(Metrics.SCREEN_DECISIONS).tag("check", "rate").tag("result", result).counter().count();
    }

    @Test
    void aClientOverItsConnectionsIsToldToSlowDownUntilTheMinuteIsOver() throws Exception {
        try (ServerFixture f = ServerFixture.screening(rates(3, 0, 0, 0), clock)) {
            for (int i = 0; i < 3; i++) {
                assertTrue(connect(f, "127.0.0.2").startsWith("220 "), "connection " + i);
            }
            assertEquals(SLOW_DOWN, connect(f, "127.0.0.2"));
            assertTrue(connect(f, "127.0.0.3").startsWith("220 "), "another client has its own count");
            clock.advance(Duration.ofSeconds(59));
            assertEquals(SLOW_DOWN, connect(f, "127.0.0.2"), "refused attempts do not count, but the minute is not over");
            clock.advance(Duration.ofSeconds(1));
            assertTrue(connect(f, "127.0.0.2").startsWith("220 "), "a new minute");
            assertEquals(5, count(f, "passed"));
            assertEquals(2, count(f, "connections"));
            assertEquals(2, f.registry.get(Metrics.SMTP_REJECTIONS).tag("reason", "rate_limit").counter().count());
        }
    }

    @Test
    void aFloodFromAHundredAddressesOfOneNetworkHoldsTheNetworkLimit() throws Exception {
        try (ServerFixture f = ServerFixture.screening(rates(3, 40, 0, 0), clock)) {
            int greeted = 0;
            int refused = 0;
            for (int i = 0; i < 100; i++) {
                String first = connect(f, "127.0.0." + (10 + i));
                if (first.startsWith("220 ")) {
                    greeted++;
                } else {
                    assertEquals(SLOW_DOWN, first);
                    refused++;
                }
            }
            assertEquals(40, greeted);
            assertEquals(60, refused);
            // one window per address let through or asked about, and the network's
            assertEquals(101, f.server.rateWindows());
            clock.advance(ClientRates.WINDOW);
            assertTrue(connect(f, "127.0.0.200").startsWith("220 "));
        }
    }

    @Test
    void messagesOverTheLimitAre452AndTheWindowMovesWithTheClock() throws Exception {
        try (ServerFixture f = ServerFixture.screening(rates(0, 0, 2, 3), clock)) {
            try (SmtpTranscript t = session(f, "127.0.0.2")) {
                for (int i = 0; i < 2; i++) {
                    assertTrue(t.command("MAIL FROM:<a@mta.test>").startsWith("250"), "message " + i);
                    assertTrue(t.command("RSET").startsWith("250"));
                }
                assertEquals("452 4.7.1 Too many messages from your address or network this minute, try again later",
                        t.command("MAIL FROM:<a@mta.test>"));
                try (SmtpTranscript neighbour = session(f, "127.0.0.3")) {
                    assertTrue(neighbour.command("MAIL FROM:<b@mta.test>").startsWith("250"));
                    neighbour.command("RSET");
                    assertTrue(neighbour.command("MAIL FROM:<b@mta.test>").startsWith("452 4.7.1 "),
                            "the network's third message used its allowance");
                }
                clock.advance(ClientRates.WINDOW);
                assertTrue(t.command("MAIL FROM:<a@mta.test>").startsWith("250"), "a new minute");
            }
            assertEquals(4, count(f, "passed"));
            assertEquals(2, count(f, "messages"));
            assertEquals(2, f.registry.get(Metrics.SMTP_REJECTIONS).tag("reason", "rate_limit").counter().count());
        }
    }

    @Test
    void trustedClientsAreNeverLimited() throws Exception {
        ScreenConfig screen = rates(1, 1, 1, 1).withTrusted(List.of(AddressRange.parse("127.0.0.2")));
        try (ServerFixture f = ServerFixture.screening(screen, clock)) {
            for (int i = 0; i < 3; i++) {
                try (SmtpTranscript t = session(f, "127.0.0.2")) {
                    assertTrue(t.command("MAIL FROM:<a@primary.test>").startsWith("250"));
                    t.command("RSET");
                    assertTrue(t.command("MAIL FROM:<a@primary.test>").startsWith("250"));
                }
            }
            assertEquals(0, count(f, "passed") + count(f, "connections") + count(f, "messages"));
            assertEquals(0, f.server.rateWindows());
        }
    }

    @Test
    void theWindowsKeptStayWithinTheCapacityAndTheNetworkLimitHoldsUnderTheFlood() throws Exception {
        SmtpMetrics metrics = new SmtpMetrics(new SimpleMeterRegistry(), Set.of());
        ClientRates rates = ClientRates.create(rates(5, 100, 0, 0), clock, metrics, 16);
        int passed = 0;
        for (int i = 0; i < 1000; i++) {
            InetAddress client = InetAddress.getByName("198.51.100." + (i % 250));
            if (rates.connection(client) == null) {
                passed++;
            }
            assertTrue(rates.tracked() <= 16, "windows kept: " + rates.tracked());
        }
        // the network's window is used at every step, so it is never the one pushed out
        assertEquals(100, passed);
        InetAddress v6 = InetAddress.getByName("2001:db8:1:2::7");
        for (int i = 0; i < 5; i++) {
            assertEquals(null, rates.connection(v6));
        }
        assertEquals(Replies.RATE_CONNECTIONS, rates.connection(v6));
        assertEquals(null, rates.connection(InetAddress.getByName("2001:db8:1:3::7")), "another /64");
    }
}
