package org.backstopmx.smtpin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.backstopmx.core.EtrnService;
import org.backstopmx.core.PrimaryCapabilities;
import org.backstopmx.core.Metrics;
import org.backstopmx.core.config.AddressRange;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.core.config.DnsListMatch;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.ProxyProtocol;
import org.backstopmx.core.config.ScreenConfig;
import org.backstopmx.core.config.ScreenConfig.DnsList;
import org.backstopmx.core.config.SmtpConfig;
import org.backstopmx.testkit.Dnsmasq;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Client screening over real sockets against DNS lists served by a real dnsmasq; each client connects from its own
 * loopback address. What the lists say:
 * <pre>
 *   127.0.0.2  bl.test (127.0.0.2), bl2.test         a block-listed client
 *   127.0.0.3  bl.test (127.0.0.2), wl.test          listed and allow-listed
 *   127.0.0.4  bl.test (127.0.0.255)                 an answer outside bl.test's match
 *   127.0.0.6  bl2.test                              on one light list only
 *   127.0.0.5  nowhere                               clean
 * </pre>
 */
class ScreenTest {
    private static final DnsListMatch CODES = DnsListMatch.parse("127.0.0.[2..11]");
    private static final DnsList BL = new DnsList("bl.test", 2, CODES);
    private static final DnsList WL = new DnsList("wl.test", 2, DnsListMatch.any());
    private static Dnsmasq dns;

    @BeforeAll
    static void lists() {
        dns = Dnsmasq.start(
                "--host-record=2.0.0.127.bl.test,127.0.0.2",
                "--host-record=3.0.0.127.bl.test,127.0.0.2",
                "--host-record=4.0.0.127.bl.test,127.0.0.255",
                "--host-record=2.0.0.127.bl2.test,127.0.0.2",
                "--host-record=6.0.0.127.bl2.test,127.0.0.2",
                "--host-record=3.0.0.127.wl.test,127.0.2.1");
    }

    @AfterAll
    static void stop() {
        dns.close();
    }

    private static ScreenConfig lists(List<DnsList> dnsbl, List<DnsList> dnswl) {
        return ScreenConfig.defaults().withLists(dnsbl, dnswl, 2);
    }

    private static DnsConfig resolver() {
        return new DnsConfig(dns.address(), Duration.ofSeconds(2));
    }

    private static SmtpTranscript from(ServerFixture f, String local) throws Exception {
        SmtpTranscript t = new SmtpTranscript(f.address(), InetAddress.getByName(local), 10_000);
        String greeting = t.reply();
        assertTrue(greeting.startsWith("220 "), greeting);
        return t;
    }

    private static double count(ServerFixture f, String check, String result) {
        return f.registry.get(Metrics.SCREEN_DECISIONS).tag("check", check).tag("result", result).counter().count();
    }

    @Test
    void aListedClientIsRefusedAtEveryCommandButQuitRsetNoop() throws Exception {
        try (ServerFixture f = ServerFixture.screening(lists(List.of(BL), List.of()), resolver());
                SmtpTranscript t = from(f, "127.0.0.2")) {
            assertEquals("554 5.7.1 Service unavailable; client [127.0.0.2] blocked using bl.test",
                    t.command("EHLO spammer.test"));
            assertEquals("554 5.7.1 Service unavailable; client [127.0.0.2] blocked using bl.test",
                    t.command("MAIL FROM:<a@spammer.test>"));
            assertTrue(t.command("RCPT TO:<alice@example.test>").startsWith("554 5.7.1 "));
            assertTrue(t.command("DATA").startsWith("554 5.7.1 "));
            assertTrue(t.command("NOOP").startsWith("250"));
            assertTrue(t.command("RSET").startsWith("250"));
            assertTrue(t.command("QUIT").startsWith("221"));
            assertEquals(0, f.queue.stored().size());
            assertEquals(1, count(f, "dnsbl", "listed"));
            assertEquals(1, count(f, "score", "refused"));
        }
    }

    @Test
    void allowListedCleanAndUnmatchedClientsGoOn() throws Exception {
        try (ServerFixture f = ServerFixture.screening(lists(List.of(BL), List.of(WL)), resolver())) {
            for (String client : List.of("127.0.0.3", "127.0.0.4", "127.0.0.5")) {
                try (SmtpTranscript t = from(f, client)) {
                    assertTrue(t.command("EHLO mta.test").startsWith("250"), client);
                    assertTrue(t.command("MAIL FROM:<a@mta.test>").startsWith("250"), client);
                    assertTrue(t.command("RCPT TO:<alice@example.test>").startsWith("250"), client);
                }
            }
            assertEquals(1, count(f, "dnsbl", "listed"));  // 127.0.0.3, taken back by wl.test
            assertEquals(2, count(f, "dnsbl", "clean"));   // 127.0.0.255 is outside the match; NXDOMAIN
            assertEquals(1, count(f, "dnswl", "listed"));
            assertEquals(3, count(f, "score", "passed"));
        }
    }

    @Test
    void weightsAddUpToTheThreshold() throws Exception {
        DnsList light = new DnsList("bl.test", 1, CODES);
        DnsList light2 = new DnsList("bl2.test", 1, CODES);
        try (ServerFixture f = ServerFixture.screening(lists(List.of(light, light2), List.of()), resolver())) {
            try (SmtpTranscript one = from(f, "127.0.0.6")) {
                assertTrue(one.command("EHLO mta.test").startsWith("250"), "one list of weight 1 is below 2");
            }
            try (SmtpTranscript both = from(f, "127.0.0.2")) {
                assertEquals("554 5.7.1 Service unavailable; client [127.0.0.2] blocked using bl.test, bl2.test",
                        both.command("EHLO mta.test"));
            }
        }
    }

    @Test
    void theClientNamedByAProxyHeaderIsTheOneScreened() throws Exception {
        SmtpConfig behind = ProxyHeaders.behind(SmtpConfig.defaults(), ProxyProtocol.V1, "127.0.0.1/32");
        try (ServerFixture f = new ServerFixture(behind, Map.of("example.test", DomainConfig.acceptAll("example.test")),
                (domain, client) -> EtrnService.Result.UNAVAILABLE, PrimaryCapabilities.UNKNOWN,
                lists(List.of(BL), List.of()), resolver());
                SmtpTranscript t = new SmtpTranscript(f.address())) {
            t.sendBytes(ProxyHeaders.v1("127.0.0.2", 40000));
            assertTrue(t.reply().startsWith("220 "));
            assertEquals("554 5.7.1 Service unavailable; client [127.0.0.2] blocked using bl.test",
                    t.command("EHLO relayed.test"));
        }
    }

    @Test
    void anAnswerIsCachedForItsTtl() throws Exception {
        try (Dnsmasq cached = Dnsmasq.start("--local-ttl=60", "--log-queries",
                "--host-record=2.0.0.127.bl.test,127.0.0.2");
                ServerFixture f = ServerFixture.screening(lists(List.of(BL), List.of()),
                        new DnsConfig(cached.address(), Duration.ofSeconds(2)))) {
            for (int i = 0; i < 3; i++) {
                try (SmtpTranscript t = from(f, "127.0.0.2")) {
                    assertTrue(t.command("EHLO mta.test").startsWith("554 5.7.1 "));
                }
            }
            String log = cached.log();
            assertEquals(1, log.split("query\\[A\\] 2.0.0.127.bl.test", -1).length - 1, log);
        }
    }

    @Test
    void tempfailAnswers450() throws Exception {
        ScreenConfig screen = lists(List.of(BL), List.of()).withAction(ScreenConfig.Action.TEMPFAIL);
        try (ServerFixture f = ServerFixture.screening(screen, resolver()); SmtpTranscript t = from(f, "127.0.0.2")) {
            assertEquals("450 4.7.1 Service unavailable; client [127.0.0.2] blocked using bl.test, try again later",
                    t.command("EHLO mta.test"));
            assertTrue(t.command("MAIL FROM:<a@mta.test>").startsWith("450 4.7.1 "));
        }
    }

    @Test
    void trustedClientsAreNotLookedUp() throws Exception {
        ScreenConfig screen = lists(List.of(BL), List.of()).withTrusted(List.of(AddressRange.parse("127.0.0.0/30")));
        try (ServerFixture f = ServerFixture.screening(screen, resolver()); SmtpTranscript t = from(f, "127.0.0.2")) {
            assertTrue(t.command("EHLO mta.test").startsWith("250"));
            assertEquals(0, count(f, "dnsbl", "listed") + count(f, "dnsbl", "clean"));
        }
    }

    @Test
    void aListThatDoesNotAnswerCountsAsNotListedWithinTheTimeout() throws Exception {
        Duration timeout = Duration.ofMillis(800);
        try (Dnsmasq.BlackHole hole = new Dnsmasq.BlackHole();
                Dnsmasq silent = Dnsmasq.withSilentZone("slow.test", hole, "--host-record=2.0.0.127.bl.test,127.0.0.2")) {
            DnsList slow = new DnsList("slow.test", 5, DnsListMatch.any());
            DnsConfig config = new DnsConfig(silent.address(), timeout);
            try (ServerFixture f = ServerFixture.screening(lists(List.of(slow, BL), List.of()), config)) {
                long start = System.nanoTime();
                try (SmtpTranscript clean = from(f, "127.0.0.5")) {
                    assertTrue(clean.command("EHLO mta.test").startsWith("250"));
                }
                long took = (System.nanoTime() - start) / 1_000_000;
                assertTrue(took < timeout.toMillis() + 1_000, "the session waited " + took + " ms");
                try (SmtpTranscript listed = from(f, "127.0.0.2")) {
                    // the lists that answer still count
                    assertEquals("554 5.7.1 Service unavailable; client [127.0.0.2] blocked using bl.test",
                            listed.command("EHLO mta.test"));
                }
                assertEquals(2, count(f, "dnsbl", "timeout"));
            }
        }
    }

    @Test
    void aClientThatTalksBeforeTheGreetingIsRefused() throws Exception {
        ScreenConfig screen = ScreenConfig.defaults().withGreetDelay(Duration.ofMillis(700));
        try (ServerFixture f = ServerFixture.screening(screen, resolver())) {
            try (SmtpTranscript eager = new SmtpTranscript(f.address(), InetAddress.getByName("127.0.0.2"), 10_000)) {
                eager.send("EHLO eager.test");
                assertEquals("554 5.5.1 " + ServerFixture.HOST + " Protocol error: you talked before the greeting",
                        eager.reply());
                assertTrue(eager.closedByServer());
            }
            try (SmtpTranscript patient = from(f, "127.0.0.3")) {
                assertTrue(patient.command("EHLO patient.test").startsWith("250"));
            }
            assertEquals(1, count(f, "pregreet", "refused"));
            assertEquals(1, count(f, "pregreet", "passed"));
            assertEquals(0, f.queue.stored().size());
        }
    }
}
