package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import jakarta.mail.Session;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.RetryConfig;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.SmtpTranscript;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Closing the whole appliance in this JVM, as the SIGTERM hook does, and starting it again on the same queue: open
 * sessions are told 421 4.3.2, the listener is gone, and mail stored before the close goes out after the start.
 * {@link GracefulStopIT} does the same with a real signal to a real process.
 */
class ApplianceRestartTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private FakePrimaryMx primary;
    private Appliance appliance;

    @AfterEach
    void stop() throws Exception {
        if (appliance != null) {
            appliance.close();
        }
        if (primary != null) {
            primary.close();
        }
    }

    @Test
    void closeAnswersOpenSessions421AndMailStoredBeforeItIsDeliveredAfterTheNextStart() throws Exception {
        primary = FakePrimaryMx.start();
        primary.stop(); // down: what is received stays queued
        BackstopConfig d = InProcessConfig.serving(dir, primary.port(), Duration.ofHours(1));
        // retries a second apart, so the restarted appliance tries again at once
        BackstopConfig config = new BackstopConfig(d.hostname(), d.selfNames(), d.smtp(), d.domains(), d.routes(),
                d.queue(), new RetryConfig(Duration.ofSeconds(1), Duration.ofSeconds(1)), d.probe(), d.delivery(),
                d.dns(), d.metrics(), d.admin());
        appliance = Appliance.start(config, Clock.systemUTC());
        InetSocketAddress smtp = appliance.smtpAddress();
        byte[] raw = TestMail.message("before-close", 3);
        Session session = TestMail.session(smtp);
        try (SMTPTransport t = (SMTPTransport) session.getTransport("smtp")) {
            t.connect();
            TestMail.send(t, session, raw, "bob@example.test");
        }

        try (SmtpTranscript afterEhlo = client(smtp); SmtpTranscript afterMail = client(smtp)) {
            assertThat(afterMail.command("MAIL FROM:<a@sender.test>")).startsWith("250");
            appliance.close();
            appliance = null;
            String notice = "421 4.3.2 " + config.hostname() + " Service shutting down";
            assertThat(afterEhlo.reply()).startsWith(notice);
            assertThat(afterMail.reply()).startsWith(notice);
            assertThat(afterMail.closedByServer()).isTrue();
        }
        assertThat(refused(smtp)).isTrue();

        primary.restart();
        appliance = Appliance.start(config, Clock.systemUTC());
        await().atMost(WAIT).until(() -> primary.transactions().size() == 1 && appliance.queue().list(10).isEmpty());
        assertThat(new String(primary.transactions().get(0).data(), StandardCharsets.ISO_8859_1))
                .contains("Subject: test before-close");
    }

    private static SmtpTranscript client(InetSocketAddress smtp) throws IOException {
        SmtpTranscript t = new SmtpTranscript(smtp);
        assertThat(t.reply()).startsWith("220 ");
        assertThat(t.command("EHLO client.test")).startsWith("250");
        return t;
    }

    private static boolean refused(InetSocketAddress address) {
        try (Socket s = new Socket()) {
            s.connect(address, 2_000);
            return false;
        } catch (IOException e) {
            return true;
        }
    }
}
