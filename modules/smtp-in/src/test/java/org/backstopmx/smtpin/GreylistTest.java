package org.backstopmx.smtpin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import org.backstopmx.core.Metrics;
import org.backstopmx.core.config.AddressRange;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.core.config.DnsListMatch;
import org.backstopmx.core.config.GreylistMode;
import org.backstopmx.core.config.ScreenConfig;
import org.backstopmx.core.config.ScreenConfig.DnsList;
import org.backstopmx.testkit.Dnsmasq;
import org.backstopmx.testkit.MutableClock;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.Test;

/**
 * Greylisting over real sockets, each client on its own loopback address; the delay, retry window and lifetime pass
 * on a moved clock, never in real time.
 */
class GreylistTest {
    private static final String LATER = "450 4.7.1 Greylisted: this sender is new here, try again in a few minutes";
    private static final Duration DELAY = Duration.ofMinutes(5);

    private final MutableClock clock = MutableClock.startingAt("2026-03-01T10:00:00Z");
    private final MemoryGreylist greylist = new MemoryGreylist();

    private static ScreenConfig greylisting() {
        return ScreenConfig.defaults().withGreylist(GreylistMode.ON, DELAY, Duration.ofHours(4), Duration.ofDays(35));
    }

    private ServerFixture server(ScreenConfig screen) throws InterruptedException {
        return ServerFixture.greylisting(screen, DnsConfig.defaults(), clock, greylist);
    }

    /** MAIL from {@code sender} and RCPT to {@code rcpt} from {@code local}: the reply to the RCPT. */
    private static String tryOnce(ServerFixture f, String local, String sender, String rcpt) throws Exception {
        try (SmtpTranscript t = new SmtpTranscript(f.address(), InetAddress.getByName(local), 10_000)) {
            assertTrue(t.reply().startsWith("220 "));
            assertTrue(t.command("EHLO mta.test").startsWith("250"));
            assertTrue(t.command("MAIL FROM:<" + sender + ">").startsWith("250"));
            String reply = t.command("RCPT TO:<" + rcpt + ">");
            t.command("QUIT");
            return reply;
        }
    }

    private static double count(ServerFixture f, String result) {
        return f.registry.get(Metrics.SCREEN_DECISIONS).tag("check", "greylist").tag("result", result).counter()
                .count();
    }

    @Test
    void theFirstTryIsDeferredAndARetryAfterTheDelayPasses() throws Exception {
        try (ServerFixture f = server(greylisting())) {
            assertEquals(LATER, tryOnce(f, "127.0.0.2", "a@sender.test", "alice@example.test"));
            clock.advance(DELAY.minusSeconds(1));
            assertEquals(LATER, tryOnce(f, "127.0.0.2", "a@sender.test", "alice@example.test"), "before the delay");
            clock.advance(Duration.ofSeconds(1));
            assertTrue(tryOnce(f, "127.0.0.3", "A@Sender.test", "alice@example.test").startsWith("250"),
                    "after the delay, from another address of the same /24");
            assertEquals(LATER, tryOnce(f, "127.0.0.2", "a@sender.test", "bob@example.test"), "another recipient");
            assertEquals(LATER, tryOnce(f, "127.0.0.2", "", "alice@example.test"), "another sender: the null one");

            clock.advance(Duration.ofDays(30));
            assertTrue(tryOnce(f, "127.0.0.2", "a@sender.test", "alice@example.test").startsWith("250"),
                    "a triplet that passed is remembered");
            assertEquals(4, count(f, "deferred"));
            assertEquals(2, count(f, "passed"));
            assertEquals(4, f.registry.get(Metrics.SMTP_REJECTIONS).tag("reason", "greylisted").counter().count());
        }
    }

    @Test
    void aFirstTryNotRetriedWithinTheWindowIsForgotten() throws Exception {
        try (ServerFixture f = server(greylisting())) {
            assertEquals(LATER, tryOnce(f, "127.0.0.2", "a@sender.test", "alice@example.test"));
            clock.advance(Duration.ofHours(4));
            assertEquals(LATER, tryOnce(f, "127.0.0.2", "a@sender.test", "alice@example.test"), "starts over");
            clock.advance(DELAY);
            assertTrue(tryOnce(f, "127.0.0.2", "a@sender.test", "alice@example.test").startsWith("250"));
            clock.advance(Duration.ofDays(36));
            assertEquals(LATER, tryOnce(f, "127.0.0.2", "a@sender.test", "alice@example.test"), "past its lifetime");
            assertEquals(1, greylist.entries.size(), "the expired entries were pruned");
        }
    }

    @Test
    void everyRecipientOfAPipeliningSenderIsDeferredWithoutEndingItsSession() throws Exception {
        try (ServerFixture f = server(greylisting());
                SmtpTranscript t = new SmtpTranscript(f.address(), InetAddress.getByName("127.0.0.2"), 10_000)) {
            assertTrue(t.reply().startsWith("220 "));
            assertTrue(t.command("EHLO mta.test").startsWith("250"));
            assertTrue(t.command("MAIL FROM:<a@sender.test>").startsWith("250"));
            for (int i = 0; i < 30; i++) {
                assertEquals(LATER, t.command("RCPT TO:<r" + i + "@example.test>"), "recipient " + i);
            }
            assertTrue(t.command("RCPT TO:<nobody@elsewhere.test>").startsWith("550 5.7.1"), "relay control first");
            assertTrue(t.command("NOOP").startsWith("250"), "not counted towards smtp.max-errors");
        }
    }

    @Test
    void trustedAndAllowListedClientsAreNotGreylisted() throws Exception {
        ScreenConfig screen = greylisting().withTrusted(List.of(AddressRange.parse("127.0.0.2")));
        try (Dnsmasq dns = Dnsmasq.start("--host-record=3.0.0.127.wl.test,127.0.2.1")) {
            screen = screen.withLists(List.of(), List.of(new DnsList("wl.test", 2, DnsListMatch.any())), 2);
            try (ServerFixture f = ServerFixture.greylisting(screen, new DnsConfig(dns.address(), Duration.ofSeconds(2)),
                    clock, greylist)) {
                assertTrue(tryOnce(f, "127.0.0.2", "a@primary.test", "alice@example.test").startsWith("250"));
                assertTrue(tryOnce(f, "127.0.0.3", "a@listed.test", "alice@example.test").startsWith("250"));
                assertEquals(LATER, tryOnce(f, "127.0.0.4", "a@sender.test", "alice@example.test"));
                assertEquals(1, greylist.entries.size());
            }
        }
    }

    @Test
    void aGreylistThatCannotBeUsedLetsTheRecipientPass() throws Exception {
        try (ServerFixture f = server(greylisting())) {
            greylist.failing = true;
            assertTrue(tryOnce(f, "127.0.0.2", "a@sender.test", "alice@example.test").startsWith("250"));
            assertEquals(1, count(f, "error"));
        }
    }

    @Test
    void networksAreTheSlash24AndTheSlash64() throws Exception {
        assertEquals("192.0.2.0/24", Greylisting.network(InetAddress.getByName("192.0.2.77")));
        assertEquals("2001:db8:0:2a::/64", Greylisting.network(InetAddress.getByName("2001:db8:0:2a:1:2:3:4")));
    }
}
