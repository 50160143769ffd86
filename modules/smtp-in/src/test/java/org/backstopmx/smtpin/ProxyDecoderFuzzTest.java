package org.backstopmx.smtpin;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.code_intelligence.jazzer.api.BugDetectors;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.backstopmx.core.EtrnService;
import org.backstopmx.core.PrimaryCapabilities;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.RateConfig;
import org.backstopmx.core.config.ScreenConfig;
import org.backstopmx.core.config.ProxyProtocol;
import org.backstopmx.core.config.SmtpConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.slf4j.LoggerFactory;

/**
 * Coverage-guided fuzzing of the PROXY protocol front (v1 and v2, Netty's decoder and our handler) over a real
 * socket from a trusted proxy address: whatever the header, the connection is either greeted with a 220 (the
 * bytes held a valid header) or closed without a word, and nothing is logged at WARN or above. {@link
 * ProxyHeaderFuzzTest} replays thousands of seeded damages of a good header; this one lets coverage steer.
 */
class ProxyDecoderFuzzTest {
    private static ServerFixture server;
    private static ListAppender<ILoggingEvent> log;

    @BeforeAll
    static void start() throws Exception {
        log = new ListAppender<>();
        log.start();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(log);
        SmtpConfig config = ProxyHeaders.behind(SmtpConfig.defaults(), ProxyProtocol.ANY, "127.0.0.1");
        // thousands of connections a minute: the rate limits would answer most of them
        server = new ServerFixture(config, Map.of("example.test", DomainConfig.acceptAll("example.test")),
                (domain, client) -> EtrnService.Result.UNAVAILABLE, PrimaryCapabilities.UNKNOWN,
                ScreenConfig.defaults().withRate(RateConfig.off()), DnsConfig.defaults());
    }

    @AfterAll
    static void stop() {
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(log);
        server.close();
    }

    @FuzzTest(maxDuration = "10s")
    void anyHeaderIsAGreetingOrASilentClose(byte[] header) throws IOException {
        int port = server.address().getPort();
        BugDetectors.allowNetworkConnections((host, p) -> p == port);
        String answer = exchange(header);
        if (!answer.isEmpty()) {
            assertThat(answer).as("answer to a header").startsWith("220 ");
            for (String line : answer.split("\r\n")) {
                assertThat(line).as("not an SMTP reply").matches("[2-5][0-9][0-9][ -].*");
            }
        }
        assertThat(logged()).as("logged by the listener")
                .noneMatch(e -> e.getLevel().isGreaterOrEqual(Level.WARN) || e.getThrowableProxy() != null);
    }

    /** What the server has logged so far (its threads append while we read). */
    private static java.util.List<ILoggingEvent> logged() {
        synchronized (log) {
            return java.util.List.copyOf(log.list);
        }
    }

    /** Sends the header, ends our output so a header waiting for more ends at once, and reads until the close. */
    private static String exchange(byte[] header) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(server.address(), 5000);
            s.setSoTimeout(15_000);
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            try {
                s.getOutputStream().write(header);
                s.getOutputStream().flush();
                s.shutdownOutput();
                InputStream in = s.getInputStream();
                byte[] buf = new byte[512];
                for (int n; (n = in.read(buf)) != -1; ) {
                    got.write(buf, 0, n);
                }
            } catch (SocketException reset) {
                // closed with our bytes unread: what was said before is the answer
            }
            return got.toString(StandardCharsets.ISO_8859_1);
        }
    }
}
