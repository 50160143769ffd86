package org.backstopmx.smtpin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.backstopmx.smtpin.ProxyHeaders.behind;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.backstopmx.core.EtrnService;
import org.backstopmx.core.Metrics;
import org.backstopmx.core.Metrics.ProxyRefusal;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.ProxyProtocol;
import org.backstopmx.core.config.SmtpConfig;
import org.backstopmx.testkit.RecordingMailQueue;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The PROXY protocol on the listener, over real sockets: the header's client is the client, everything else is refused. */
class ProxyProtocolTest {
    private static final Map<String, DomainConfig> DOMAINS = Map.of("example.test", DomainConfig.acceptAll("example.test"));
    /** A 1 s idle timeout, so the wait for a header is 1 s too. */
    private static final SmtpConfig QUICK = ServerFixture.config(10_000, 10, 10, 10, Duration.ofSeconds(1), 600, 2000,
            100, 20);
    /** 3 connections in all, 1 per client address. */
    private static final SmtpConfig LIMITED = ServerFixture.config(10_000, 10, 3, 1, Duration.ofSeconds(30), 600, 2000,
            100, 20);

    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final List<InetAddress> etrnClients = new CopyOnWriteArrayList<>();

    @BeforeEach
    void captureLogs() {
        log.start();
        for (Class<?> c : List.of(ProxyHeaderHandler.class, RecipientHook.class, ConnectionLimiter.class)) {
            ((Logger) LoggerFactory.getLogger(c)).addAppender(log);
        }
    }

    @AfterEach
    void stopCapturing() {
        for (Class<?> c : List.of(ProxyHeaderHandler.class, RecipientHook.class, ConnectionLimiter.class)) {
            ((Logger) LoggerFactory.getLogger(c)).detachAppender(log);
        }
    }

    private ServerFixture server(SmtpConfig config, ProxyProtocol mode, String... trusted) throws Exception {
        return new ServerFixture(behind(config, mode, trusted), DOMAINS, (domain, client) -> {
            etrnClients.add(client);
            return EtrnService.Result.STARTED;
        });
    }

    private ServerFixture server(ProxyProtocol mode) throws Exception {
        return server(SmtpConfig.defaults(), mode, "127.0.0.0/8");
    }

    /** Connects, sends {@code header}, and expects the greeting. */
    private static SmtpTranscript proxied(ServerFixture fx, byte[] header) throws Exception {
        SmtpTranscript t = new SmtpTranscript(fx.address(), 5000);
        t.sendBytes(header);
        assertThat(t.reply()).startsWith("220 " + ServerFixture.HOST);
        return t;
    }

    private static double refused(ServerFixture fx, ProxyRefusal reason) {
        return fx.registry.get(Metrics.SMTP_PROXY_REFUSED).tag("reason", reason.tag()).counter().count();
    }

    private List<String> logLines() {
        return log.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void aV1HeaderNamesTheClientOfTheSession() throws Exception {
        try (ServerFixture fx = server(ProxyProtocol.V1);
                SmtpTranscript t = proxied(fx, ProxyHeaders.v1("203.0.113.7", 40001))) {
            assertThat(t.command("EHLO client.test")).contains("[203.0.113.7]");
            assertThat(t.command("ETRN example.test")).startsWith("250");
            assertThat(etrnClients).containsExactly(InetAddress.getByName("203.0.113.7"));
            t.command("MAIL FROM:<a@s.test>");
            assertThat(t.command("RCPT TO:<x@elsewhere.test>")).startsWith("550 5.7.1");
            assertThat(t.command("RCPT TO:<x@example.test>")).startsWith("250");
            assertThat(t.command("DATA")).startsWith("354");
            t.sendRaw("Subject: s\r\n\r\nbody\r\n.\r\n");
            assertThat(t.reply()).startsWith("250 2.0.0");

            RecordingMailQueue.Stored stored = fx.queue.stored().get(0);
            assertThat(new String(stored.body(), StandardCharsets.ISO_8859_1))
                    .startsWith("Received: from client.test ([203.0.113.7])\r\n");
            assertThat(stored.envelope().clientAddress()).isEqualTo("203.0.113.7");
            assertThat(logLines()).anyMatch(l -> l.startsWith("reject: RCPT from [203.0.113.7]: 550 5.7.1"));
        }
    }

    @Test
    void aV2HeaderOverIpv4AndIpv6NamesTheClient() throws Exception {
        try (ServerFixture fx = server(ProxyProtocol.V2)) {
            try (SmtpTranscript t = proxied(fx, ProxyHeaders.v2("198.51.100.9", 40002))) {
                assertThat(t.command("EHLO client.test")).contains("[198.51.100.9]");
            }
            String six = InetAddress.getByName("2001:db8::77").getHostAddress();
            try (SmtpTranscript t = proxied(fx, ProxyHeaders.v2("2001:db8::77", 40003))) {
                assertThat(t.command("EHLO client.test")).contains("[" + six + "]");
                SmtpSessionTest.sendSimple(t);
                assertThat(t.reply()).startsWith("250 2.0.0");
            }
            assertThat(new String(fx.queue.stored().get(0).body(), StandardCharsets.ISO_8859_1)).startsWith("Received: from client.test ([IPv6:" + six + "])");
        }
    }

    @Test
    void eitherVersionWhenSetToAny() throws Exception {
        try (ServerFixture fx = server(ProxyProtocol.ANY);
                SmtpTranscript one = proxied(fx, ProxyHeaders.v1("2001:db8::1", 40004));
                SmtpTranscript two = proxied(fx, ProxyHeaders.v2("192.0.2.200", 40005))) {
            assertThat(one.command("EHLO one.test")).contains("[" + InetAddress.getByName("2001:db8::1").getHostAddress() + "]");
            assertThat(two.command("EHLO two.test")).contains("[192.0.2.200]");
        }
    }

    @Test
    void theConnectionLimitCountsEachProxiedClient() throws Exception {
        try (ServerFixture fx = server(LIMITED, ProxyProtocol.V1, "127.0.0.1")) {
            // refused headers take no place in the counts
            for (int i = 0; i < 3; i++) {
                try (SmtpTranscript bad = new SmtpTranscript(fx.address(), 5000)) {
                    bad.sendRaw("PROXY TCP4 203.0.113.1 nonsense\r\n");
                    assertThat(bad.reply()).isNull();
                }
            }
            try (SmtpTranscript a = proxied(fx, ProxyHeaders.v1("203.0.113.1", 40010));
                    SmtpTranscript b = proxied(fx, ProxyHeaders.v1("203.0.113.2", 40011))) {
                assertThat(fx.server.activeConnections()).isEqualTo(2);
                try (SmtpTranscript again = new SmtpTranscript(fx.address(), 5000)) {
                    again.sendBytes(ProxyHeaders.v1("203.0.113.1", 40012));
                    assertThat(again.reply()).startsWith("421 4.7.0 " + ServerFixture.HOST + " Too many connections from your address");
                    assertThat(again.closedByServer()).isTrue();
                }
                assertThat(a.command("QUIT")).startsWith("221");
                // its place is free again: the same client gets in
                try (SmtpTranscript next = proxied(fx, ProxyHeaders.v1("203.0.113.1", 40013))) {
                    assertThat(next.command("EHLO client.test")).contains("[203.0.113.1]");
                }
                assertThat(b.command("NOOP")).startsWith("250");
            }
            assertThat(logLines()).anyMatch(l -> l.startsWith("reject: connect from [203.0.113.1]: 421 4.7.0"));
            await().untilAsserted(() -> assertThat(fx.server.activeConnections()).isZero());
        }
    }

    @Test
    void aPeerOutsideTheTrustedListIsRefusedWith421() throws Exception {
        try (ServerFixture fx = server(SmtpConfig.defaults(), ProxyProtocol.ANY, "192.0.2.0/24", "2001:db8::/32");
                SmtpTranscript t = new SmtpTranscript(fx.address(), 5000)) {
            t.sendBytes(ProxyHeaders.v1("203.0.113.7", 40020));
            assertThat(t.reply()).isEqualTo("421 4.7.0 " + ServerFixture.HOST
                    + " Connections from your address are not accepted here, try again later");
            assertThat(t.closedByServer()).isTrue();
            assertThat(refused(fx, ProxyRefusal.UNTRUSTED)).isEqualTo(1);
            assertThat(fx.registry.get(Metrics.SMTP_SESSIONS).counter().count()).isZero();
            assertThat(logLines()).contains("reject: connect from [127.0.0.1]: not in smtp.proxy-trusted");
            assertThat(fx.server.activeConnections()).isZero();
        }
    }

    @Test
    void withoutAValidHeaderOfTheVersionSetTheConnectionIsClosedBeforeTheGreeting() throws Exception {
        try (ServerFixture v1 = server(QUICK, ProxyProtocol.V1, "127.0.0.1");
                ServerFixture v2 = server(QUICK, ProxyProtocol.V2, "127.0.0.1")) {
            assertClosedSilently(v1, "EHLO client.test\r\n".getBytes(StandardCharsets.US_ASCII));
            assertClosedSilently(v1, ProxyHeaders.v2("203.0.113.7", 40030));
            assertClosedSilently(v2, ProxyHeaders.v1("203.0.113.7", 40031));
            assertClosedSilently(v2, ProxyHeaders.v2Udp("203.0.113.7"));
            assertClosedSilently(v2, "QUIT\r\n".getBytes(StandardCharsets.US_ASCII)); // too short to tell: the wait ends it
            assertClosedSilently(v1, new byte[0]); // says nothing at all: the wait ends it

            assertThat(refused(v1, ProxyRefusal.INVALID)).isEqualTo(1);
            assertThat(refused(v1, ProxyRefusal.WRONG_VERSION)).isEqualTo(1);
            assertThat(refused(v2, ProxyRefusal.WRONG_VERSION)).isEqualTo(1);
            assertThat(refused(v2, ProxyRefusal.UNSUPPORTED)).isEqualTo(1);
            assertThat(refused(v2, ProxyRefusal.MISSING)).isEqualTo(1);
            assertThat(refused(v1, ProxyRefusal.MISSING)).isEqualTo(1);
            assertThat(logLines()).contains("reject: connect from [127.0.0.1]: a PROXY v2 header, smtp.proxy-protocol is v1",
                    "reject: connect from [127.0.0.1]: no PROXY header within 1000 ms");
            assertThat(logLines()).anyMatch(l -> l.startsWith("reject: connect from [127.0.0.1]: not a valid PROXY header"));
            assertThat(v1.registry.get(Metrics.SMTP_SESSIONS).counter().count()).isZero();
            // and the listener still serves
            try (SmtpTranscript t = proxied(v1, ProxyHeaders.v1("203.0.113.7", 40032))) {
                assertThat(t.command("EHLO client.test")).contains("[203.0.113.7]");
            }
        }
    }

    private static void assertClosedSilently(ServerFixture fx, byte[] sent) throws Exception {
        try (SmtpTranscript t = new SmtpTranscript(fx.address(), 5000)) {
            t.sendBytes(sent);
            assertThat(t.reply()).isNull();
        }
    }

    @Test
    void aV2LocalHeaderKeepsThePeerAndAHealthCheckThatSaysNothingIsNotCounted() throws Exception {
        Logger handlerLog = (Logger) LoggerFactory.getLogger(ProxyHeaderHandler.class);
        Level before = handlerLog.getLevel();
        handlerLog.setLevel(Level.DEBUG); // a health check is worth a debug line only
        try (ServerFixture fx = server(ProxyProtocol.V2)) {
            try (SmtpTranscript t = proxied(fx, ProxyHeaders.v2Local())) {
                assertThat(t.command("EHLO lb.test")).contains("[127.0.0.1]");
            }
            new SmtpTranscript(fx.address(), 5000).close();
            await().untilAsserted(() -> assertThat(logLines()).anyMatch(l -> l.contains("closed before sending anything")));
            for (ProxyRefusal reason : ProxyRefusal.values()) {
                assertThat(refused(fx, reason)).as(reason.tag()).isZero();
            }
        } finally {
            handlerLog.setLevel(before);
        }
    }

    @Test
    void aConnectionStillWaitingForItsHeaderDoesNotHoldUpShutdown() throws Exception {
        ServerFixture fx = server(ProxyProtocol.V2);
        try (SmtpTranscript t = new SmtpTranscript(fx.address(), 5000)) {
            t.sendBytes(java.util.Arrays.copyOf(ProxyHeaders.v2("203.0.113.9", 40050), 10)); // and no more
            long start = System.nanoTime();
            fx.close();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(SmtpServer.DATA_GRACE);
            // closed without a word (or, when the accept raced the close, after the 421 any connection of that
            // instant gets); a close with our unread bytes may come as a reset
            String reply;
            try {
                reply = t.reply();
            } catch (java.net.SocketException reset) {
                reply = null;
            }
            assertThat(reply == null || reply.startsWith("421 4.3.2 ")).as("reply %s", reply).isTrue();
            assertThat(t.closedByServer()).isTrue();
        }
    }

    @Test
    void inputThatCameWithTheHeaderReachesTheSession() throws Exception {
        try (ServerFixture fx = server(ProxyProtocol.V1);
                SmtpTranscript t = new SmtpTranscript(fx.address(), 5000)) {
            t.sendBytes(ProxyHeaders.concat(ProxyHeaders.v1("203.0.113.8", 40040), "EHLO early.test\r\n"));
            assertThat(t.reply()).startsWith("220 ");
            assertThat(t.reply()).startsWith("250-").contains("[203.0.113.8]");
        }
    }
}
