package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import jakarta.mail.Address;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.backstopmx.core.SmtpStage;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.SmtpTranscript;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code SIGTERM} to the appliance jar, as {@code docker stop} or {@code systemctl stop} sends it, while a client sits
 * in an open session and a delivery to the primary hangs: the client is told {@code 421 4.3.2}, the JVM exits 0, the
 * lease of the hung delivery is given back at close, and the next start delivers the message at once.
 */
class GracefulStopIT {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void sigtermAnswersOpenSessions421ExitsZeroAndTheNextStartCarriesOn() throws Exception {
        try (FakePrimaryMx primary = FakePrimaryMx.start()) {
            primary.stallAt(SmtpStage.MAIL); // the forwarder's session hangs: a delivery is in flight at SIGTERM
            Path config = writeConfig(primary.port());
            String id;
            try (BackstopProcess backstop = BackstopProcess.serve(config)) {
                id = send(backstop, "bob@example.test", "carol@example.test");
                await().atMost(WAIT).until(() -> primary.verbs().contains("MAIL"));

                try (SmtpTranscript open = new SmtpTranscript(backstop.smtp())) {
                    assertThat(open.reply()).startsWith("220 ");
                    assertThat(open.command("EHLO client.test")).startsWith("250");
                    assertThat(open.command("MAIL FROM:<dave@sender.test>")).startsWith("250");

                    int exit = backstop.stop();

                    assertThat(exit).as(backstop.output()).isZero();
                    assertThat(open.reply()).isEqualTo("421 4.3.2 backstop.it.test Service shutting down, try again later");
                    assertThat(open.closedByServer()).isTrue();
                }
                assertThat(backstop.output()).contains(
                        "SMTP: stopped accepting connections",
                        "SMTP: 1 open sessions told 421 and closed",
                        "forwarder: deliveries still running after 5 s are abandoned",
                        "queue closing: 2 recipients leased but not recorded are due again",
                        "Backstop MX stopped");
            }

            // stopped: the message is in the queue as it was, nothing was delivered
            BackstopProcess.Result listing = BackstopProcess.run("queue", "list", "--config", config.toString());
            assertThat(listing.output()).contains(id, "bob@example.test", "carol@example.test");
            assertThat(primary.transactions()).isEmpty();

            primary.stallAt(null);
            try (BackstopProcess again = BackstopProcess.serve(config)) {
                await().atMost(WAIT).until(() -> primary.transactions().size() == 1);
                assertThat(primary.transactions().get(0).rcptTo())
                        .containsExactlyInAnyOrder("TO:<bob@example.test>", "TO:<carol@example.test>");
                assertThat(new String(primary.transactions().get(0).data(), StandardCharsets.ISO_8859_1))
                        .contains("Subject: stopped mid-delivery");
                // the leases were given back at close, so the restart had none to release and did not wait for them
                assertThat(again.output()).contains("and 0 recipients leased by the previous run are due now");
                await().atMost(WAIT).until(() -> again.output().contains(id + ": removed"));
                assertThat(again.stop()).as(again.output()).isZero();
            }
            assertThat(BackstopProcess.run("queue", "list", "--config", config.toString()).output())
                    .contains("Mail queue is empty");
        }
    }

    private static String send(BackstopProcess backstop, String... recipients) throws Exception {
        Session session = TestMail.session(backstop.smtp());
        byte[] raw = ("From: alice@sender.test\r\nSubject: stopped mid-delivery\r\n\r\nhello\r\n")
                .getBytes(StandardCharsets.ISO_8859_1);
        Address[] to = new Address[recipients.length];
        for (int i = 0; i < recipients.length; i++) {
            to[i] = new InternetAddress(recipients[i]);
        }
        try (SMTPTransport t = (SMTPTransport) session.getTransport("smtp")) {
            t.connect();
            t.sendMessage(new MimeMessage(session, new ByteArrayInputStream(raw)), to);
            String reply = t.getLastServerResponse();
            assertThat(reply).startsWith("250 2.0.0 Ok: queued as ");
            return reply.substring(reply.lastIndexOf(' ') + 1).trim();
        }
    }

    private Path writeConfig(int primaryPort) throws Exception {
        Path config = dir.resolve("backstop.yaml");
        Files.writeString(config, "hostname: backstop.it.test\n"
                + "screen:\n  spf: off\n" // no SPF lookups through the machine's resolver
                + "smtp:\n  listen: 127.0.0.1:0\n"
                + "domains:\n  example.test:\n    route: 127.0.0.1:" + primaryPort + "\n"
                + "queue:\n  path: " + dir.resolve("queue") + "\n"
                + "metrics:\n  listen: 127.0.0.1:0\n"
                + "admin:\n  listen: 127.0.0.1:0\n");
        return config;
    }
}
