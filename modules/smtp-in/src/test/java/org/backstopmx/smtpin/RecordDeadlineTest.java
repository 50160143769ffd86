package org.backstopmx.smtpin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.backstopmx.core.EtrnService;
import org.backstopmx.core.Metrics;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.HostPort;
import org.backstopmx.core.config.SmtpConfig;
import org.backstopmx.testkit.MutableClock;
import org.backstopmx.testkit.RecordingMailQueue;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The per-record deadline against clients that trickle: a line begun must end within {@code smtp.record-deadline},
 * or {@code smtp.stress-record-deadline} with four fifths of the connections open. The clock is moved, not waited
 * for; only the once-a-second look at it takes real time.
 */
class RecordDeadlineTest {
    private final MutableClock clock = MutableClock.startingAt("2026-12-02T10:00:00Z");
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<SmtpTranscript> clients = new ArrayList<>();
    private SmtpServer server;

    private SmtpServer start(int maxConnections) throws InterruptedException {
        SmtpConfig d = SmtpConfig.defaults();
        SmtpConfig config = new SmtpConfig(new HostPort("127.0.0.1", 0), d.maxMessageSize(), d.maxRecipients(),
                d.recipientOvershootLimit(), maxConnections, maxConnections, d.idleTimeout(),
                d.maxCommandLineLength(), d.maxLineLength(), d.maxErrors(), d.maxReceivedHeaders(), 4, null, null,
                d.proxyProtocol(), List.of(), Duration.ofMinutes(5), Duration.ofSeconds(10));
        server = new SmtpServer(ServerFixture.HOST, config,
                Map.of("example.test", DomainConfig.acceptAll("example.test")), new RecordingMailQueue(),
                (domain, client) -> EtrnService.Result.UNAVAILABLE, clock, registry);
        server.start();
        return server;
    }

    @AfterEach
    void stop() throws Exception {
        for (SmtpTranscript c : clients) {
            c.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private SmtpTranscript connect() throws Exception {
        SmtpTranscript t = new SmtpTranscript(server.localAddress(), 10_000);
        clients.add(t);
        assertThat(t.reply()).startsWith("220 ");
        return t;
    }

    /**
     * Sends {@code partial} behind a NOOP in one write and reads the NOOP's reply: then the server has read the
     * partial line too, before the clock is moved.
     */
    private static void begin(SmtpTranscript t, String partial) throws Exception {
        t.sendRaw("NOOP\r\n" + partial);
        assertThat(t.reply()).startsWith("250 2.0.0");
    }

    private double slowClients() {
        return registry.get(Metrics.SMTP_REJECTIONS).tag("reason", Metrics.RejectReason.SLOW_CLIENT.tag()).counter()
                .count();
    }

    @Test
    void aCommandLineTrickledPastTheDeadlineIsAnswered421() throws Exception {
        start(500);
        SmtpTranscript t = connect();
        begin(t, "EH");
        clock.advance(Duration.ofMinutes(3));
        t.sendRaw("LO cl");
        // the deadline runs from the line's first byte, however recently the last byte came
        clock.advance(Duration.ofMinutes(2).plusSeconds(1));

        assertThat(t.reply()).startsWith("421 4.4.2 " + ServerFixture.HOST);
        assertThat(t.closedByServer()).isTrue();
        assertThat(slowClients()).isEqualTo(1);
    }

    @Test
    void aClientThatEndsItsLinesIsNeverCutWhateverTheTime() throws Exception {
        start(500);
        SmtpTranscript t = connect();
        assertThat(t.command("EHLO client.test")).startsWith("250");
        // waiting for the client's next command is the idle timeout's business, not the deadline's
        clock.advance(Duration.ofHours(1));
        Thread.sleep(2 * RecordDeadline.TICK.toMillis());
        t.sendRaw("NO");
        clock.advance(Duration.ofMinutes(4));
        Thread.sleep(2 * RecordDeadline.TICK.toMillis());
        assertThat(t.command("OP")).startsWith("250 2.0.0");
        assertThat(slowClients()).isZero();
    }

    @Test
    void underStressTheShortDeadlineApplies() throws Exception {
        start(5);
        SmtpTranscript slow = connect();
        begin(slow, "EHLO ");
        clock.advance(Duration.ofSeconds(11));
        Thread.sleep(2 * RecordDeadline.TICK.toMillis());
        // two of five open: 11 s is well within the five minutes
        SmtpTranscript other = connect();
        assertThat(other.command("NOOP")).startsWith("250");
        assertThat(slowClients()).isZero();

        connect();
        connect();
        await().untilAsserted(() -> assertThat(server.activeConnections()).isEqualTo(4));
        // four of five open: stress, and the line begun 11 s ago is past the 10 s deadline
        assertThat(slow.reply()).startsWith("421 4.4.2");
        assertThat(slowClients()).isEqualTo(1);
        assertThat(other.command("NOOP")).as("a client that keeps up is not touched").startsWith("250");
    }

    @Test
    void aBdatChunkCountsAsALineEvery64KiB() throws Exception {
        start(500);
        SmtpTranscript t = connect();
        assertThat(t.command("EHLO client.test")).startsWith("250");
        assertThat(t.command("MAIL FROM:<a@sender.test>")).startsWith("250");
        assertThat(t.command("RCPT TO:<b@example.test>")).startsWith("250");
        int size = 3 * RecordDeadline.RECORD_BYTES;
        t.sendRaw("BDAT " + size + " LAST\r\n");
        byte[] piece = new byte[RecordDeadline.RECORD_BYTES];
        java.util.Arrays.fill(piece, (byte) 'x');
        for (int i = 0; i < 3; i++) {
            // four minutes for each 64 KiB without a line end: slow, but not trickling
            clock.advance(Duration.ofMinutes(4));
            Thread.sleep(2 * RecordDeadline.TICK.toMillis());
            t.sendBytes(piece);
        }
        assertThat(t.reply()).isNotNull().doesNotStartWith("421");
        assertThat(slowClients()).isZero();
    }
}
