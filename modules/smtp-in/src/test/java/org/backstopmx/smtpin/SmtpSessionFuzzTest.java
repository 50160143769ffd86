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
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.backstopmx.core.EtrnService;
import org.backstopmx.core.PrimaryCapabilities;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.RateConfig;
import org.backstopmx.core.config.ScreenConfig;
import org.backstopmx.core.config.SmtpConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.slf4j.LoggerFactory;

/**
 * Coverage-guided fuzzing of whole SMTP sessions over a real socket: the fuzzer's bytes are sent after the greeting
 * as they come (commands, pipelined groups, DATA and BDAT bodies, bare CR and LF, NUL, overlong lines, non-ASCII),
 * followed by an end of data and QUIT. Whatever arrives, every line the server sends must be an SMTP reply, every
 * 4xx and 5xx reply must carry an enhanced status code of its own class (RFC 3463), no reply may show a Java
 * exception, and the server must log no error. The command handling, the address and parameter parsers, and the DATA
 * and BDAT receivers all run under the fuzzer's coverage feedback.
 *
 * <p>In {@code mvn test} the inputs kept in {@code SmtpSessionFuzzTestInputs} run as regression tests; with
 * {@code JAZZER_FUZZ=1} (the fuzz executions of {@code mvn verify}) the fuzzer runs for its budget and keeps any
 * finding there.
 */
class SmtpSessionFuzzTest {
    /** Any byte but CR may follow the code (a byte read as U+0085 is no line end on the wire). */
    private static final Pattern REPLY = Pattern.compile("([2-5][0-9][0-9])([ -])([^\r]*)", Pattern.DOTALL);
    private static final Pattern ENHANCED = Pattern.compile("([245])\\.[0-9]{1,3}\\.[0-9]{1,3}( .*)?");
    /** How long to wait for more of the server's answer; a server still waiting for input is not a finding. */
    private static final int QUIET_MILLIS = 400;
    private static ServerFixture server;
    private static ListAppender<ILoggingEvent> log;

    @BeforeAll
    static void start() throws Exception {
        log = new ListAppender<>();
        log.start();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(log);
        // thousands of sessions a minute from one address: the rate limits would answer most of them
        server = new ServerFixture(SmtpConfig.defaults(), Map.of("example.test", DomainConfig.acceptAll("example.test")),
                (domain, client) -> EtrnService.Result.UNAVAILABLE, PrimaryCapabilities.UNKNOWN,
                ScreenConfig.defaults().withRate(RateConfig.off()), DnsConfig.defaults());
    }

    @AfterAll
    static void stop() {
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(log);
        server.close();
    }

    @FuzzTest(maxDuration = "10s")
    void everyAnswerIsAnSmtpReply(byte[] input) throws IOException {
        allowConnectionsToTheServer();
        List<String> lines = session(input);
        assertThat(lines).as("greeting").isNotEmpty();
        assertThat(lines.get(0)).startsWith("220 ");
        for (String line : lines) {
            Matcher reply = REPLY.matcher(line);
            assertThat(reply.matches()).as("not an SMTP reply: %s", line).isTrue();
            assertThat(line).as("a Java exception shown to the client").doesNotContain("Exception").doesNotContain("\tat ");
            char kind = line.charAt(0);
            if (kind == '4' || kind == '5') {
                Matcher enhanced = ENHANCED.matcher(reply.group(3));
                assertThat(enhanced.matches()).as("no enhanced status code: %s", line).isTrue();
                assertThat(enhanced.group(1).charAt(0)).as("class of %s", line).isEqualTo(kind);
            }
        }
        List<ILoggingEvent> errors = logged().stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.ERROR)).toList();
        assertThat(errors).as("errors logged by the server").isEmpty();
    }

    /** The only connections made are ours, to the server under test (the fuzzer resets this policy per input). */
    private static void allowConnectionsToTheServer() {
        int port = server.address().getPort();
        BugDetectors.allowNetworkConnections((host, p) -> p == port);
    }

    /** What the server has logged so far (its threads append while we read). */
    private static List<ILoggingEvent> logged() {
        synchronized (log) {
            return List.copyOf(log.list);
        }
    }

    /** One session: the greeting, the input, an end of data and QUIT; every line the server sends, until it is quiet. */
    private static List<String> session(byte[] input) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(server.address(), 5_000);
            socket.setSoTimeout(5_000);
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            List<String> lines = new ArrayList<>();
            String greeting = readLine(in);
            if (greeting != null) {
                lines.add(greeting);
            }
            socket.setSoTimeout(QUIET_MILLIS);
            try {
                out.write(input);
                out.write("\r\n.\r\nQUIT\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            } catch (IOException closedEarly) {
                // the server may hang up mid-input (too many errors, a line over the limit): read what it said
            }
            try {
                String line;
                while ((line = readLine(in)) != null) {
                    lines.add(line);
                }
            } catch (SocketTimeoutException waiting) {
                // still in a BDAT chunk, or the server waits for more: nothing wrong with that
            } catch (IOException reset) {
                // a reset after the server closed with our input unread
            }
            return lines;
        }
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') {
                byte[] bytes = b.toByteArray();
                int len = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, len, StandardCharsets.ISO_8859_1);
            }
            b.write(c);
        }
        if (b.size() > 0) {
            throw new AssertionError("a reply line without its end: " + b.toString(StandardCharsets.ISO_8859_1));
        }
        return null;
    }
}
