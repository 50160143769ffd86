package org.backstopmx.smtpin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.backstopmx.core.Metrics;
import org.backstopmx.core.Metrics.ProxyRefusal;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.ProxyProtocol;
import org.backstopmx.core.config.SmtpConfig;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Thousands of damaged PROXY headers, from a seeded generator so a failure can be replayed: each connection either
 * gets the greeting (the damage left a valid header) or is closed without a word, the listener logs no error and no
 * stack trace, every connection is accounted for, and a good session works afterwards.
 */
class ProxyHeaderFuzzTest {
    private static final long SEED = 20261202L;
    private static final int HEADERS = 3000;

    @Test
    void damagedV2HeadersNeverBreakTheListener() throws Exception {
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(log);
        SmtpConfig config = ProxyHeaders.behind(SmtpConfig.defaults(), ProxyProtocol.ANY, "127.0.0.1");
        try (ServerFixture fx = new ServerFixture(config, Map.of("example.test", DomainConfig.acceptAll("example.test")))) {
            byte[] good = ProxyHeaders.v2("203.0.113.50", 41000);
            byte[] goodSix = ProxyHeaders.v2("2001:db8::50", 41001);
            Random random = new Random(SEED);
            int greeted = 0;
            int empty = 0;
            for (int i = 0; i < HEADERS; i++) {
                byte[] header = mutate(random, random.nextBoolean() ? good : goodSix);
                empty += header.length == 0 ? 1 : 0;
                String answer = exchange(fx, header);
                if (!answer.isEmpty()) {
                    // a header left valid begins a session (whose greeting may lose the race with our end of input)
                    assertThat(answer).as("header %d: %s", i, Arrays.toString(header)).startsWith("220 ");
                    greeted++;
                }
            }
            // every connection that sent something became a session or was refused, once
            int sentSomething = HEADERS - empty;
            await().untilAsserted(() -> assertThat(sessions(fx) + refusals(fx)).isEqualTo(sentSomething));
            await().untilAsserted(() -> assertThat(fx.server.activeConnections()).isZero());
            assertThat(refusals(fx)).isGreaterThan(HEADERS / 2.0);
            assertThat(sessions(fx)).isGreaterThanOrEqualTo(greeted);
            assertThat(log.list).noneMatch(e -> e.getLevel().isGreaterOrEqual(Level.WARN) || e.getThrowableProxy() != null);

            try (SmtpTranscript t = new SmtpTranscript(fx.address(), 5000)) {
                t.sendBytes(good);
                assertThat(t.reply()).startsWith("220 ");
                assertThat(t.command("EHLO client.test")).contains("[203.0.113.50]");
                SmtpSessionTest.sendSimple(t);
                assertThat(t.reply()).startsWith("250 2.0.0");
            }
        } finally {
            root.detachAppender(log);
        }
    }

    private static double sessions(ServerFixture fx) {
        return fx.registry.get(Metrics.SMTP_SESSIONS).counter().count();
    }

    private static double refusals(ServerFixture fx) {
        double n = 0;
        for (ProxyRefusal reason : ProxyRefusal.values()) {
            n += fx.registry.get(Metrics.SMTP_PROXY_REFUSED).tag("reason", reason.tag()).counter().count();
        }
        return n;
    }

    /** A copy of {@code header}, damaged one of five ways. */
    static byte[] mutate(Random random, byte[] header) {
        byte[] b = header.clone();
        switch (random.nextInt(5)) {
            case 0 -> b = Arrays.copyOf(b, random.nextInt(b.length)); // truncated
            case 1 -> {
                for (int flips = 1 + random.nextInt(4); flips > 0; flips--) {
                    int at = random.nextInt(b.length);
                    b[at] ^= (byte) (1 << random.nextInt(8));
                }
            }
            case 2 -> { // a random length field
                b[14] = (byte) random.nextInt(256);
                b[15] = (byte) random.nextInt(256);
            }
            case 3 -> { // the fixed part kept, the rest random bytes of a random length
                byte[] r = new byte[16 + random.nextInt(300)];
                random.nextBytes(r);
                System.arraycopy(b, 0, r, 0, 16);
                b = r;
            }
            default -> { // version, command and family bytes at random
                b[12] = (byte) random.nextInt(256);
                b[13] = (byte) random.nextInt(256);
            }
        }
        return b;
    }

    /**
     * Sends {@code header}, ends the output (so a header waiting for more bytes ends at once) and reads what the
     * server says until it closes.
     */
    private static String exchange(ServerFixture fx, byte[] header) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(fx.address(), 5000);
            s.setSoTimeout(5000);
            s.getOutputStream().write(header);
            s.getOutputStream().flush();
            s.shutdownOutput();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[512];
            try {
                for (int n; (n = in.read(buf)) != -1; ) {
                    got.write(buf, 0, n);
                }
            } catch (SocketTimeoutException e) {
                throw new AssertionError("no answer and no close within 5 s for " + Arrays.toString(header), e);
            } catch (java.net.SocketException e) {
                // reset by the server's close: what was read so far is the answer
            }
            return got.toString(StandardCharsets.ISO_8859_1);
        }
    }
}
