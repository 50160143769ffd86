package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.mail.Session;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueuedMessage;
import org.backstopmx.core.config.QueueConfig;
import org.backstopmx.queue.H2MailQueue;
import org.backstopmx.testkit.SmtpTranscript;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The promise of a 250: the appliance runs as its own JVM, several sessions send mail, the JVM is killed with
 * SIGKILL right after the last 250, and after a restart exactly those messages are queued, byte for byte, while a
 * session that was cut mid-DATA left nothing behind.
 */
class QueueSurvivesKillIT {
    private static final Pattern LISTED_ID = Pattern.compile("^([0-9A-F]{16})\\s", Pattern.MULTILINE);
    private static final int SESSIONS = 5;
    private static final int PER_SESSION = 40;

    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedMessageSurvivesKill9() throws Exception {
        Path config = TestMail.writeConfig(dir, "");
        Map<String, byte[]> sent = new ConcurrentHashMap<>();
        try (BackstopProcess backstop = BackstopProcess.serve(config)) {
            Session session = TestMail.session(backstop.smtp());
            // a session left hanging in the middle of DATA when the process dies
            SmtpTranscript cut = new SmtpTranscript(backstop.smtp());
            cut.reply();
            cut.command("EHLO cut.test");
            cut.command("MAIL FROM:<cut@sender.test>");
            cut.command("RCPT TO:<cut@example.test>");
            assertThat(cut.command("DATA")).startsWith("354");
            cut.sendRaw("Subject: never finished\r\n\r\nhalf of it\r\n");

            ExecutorService pool = Executors.newFixedThreadPool(SESSIONS);
            List<Future<?>> futures = new ArrayList<>();
            for (int s = 0; s < SESSIONS; s++) {
                int sessionNo = s;
                futures.add(pool.submit(() -> {
                    try (SMTPTransport t = (SMTPTransport) session.getTransport("smtp")) {
                        t.connect();
                        for (int i = 0; i < PER_SESSION; i++) {
                            byte[] raw = TestMail.message("s" + sessionNo + "m" + i, i % 7);
                            sent.put(TestMail.send(t, session, raw, "bob@example.test"), TestMail.onTheWire(session, raw));
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
            pool.shutdown();
            backstop.kill();
            cut.close();
        }
        assertThat(sent).hasSize(SESSIONS * PER_SESSION);

        // after the crash, before any restart: the offline listing shows exactly the acknowledged messages
        BackstopProcess.Result listing = BackstopProcess.run("queue", "list", "--config", config.toString());
        assertThat(listing.exitCode()).as(listing.output()).isZero();
        assertThat(ids(listing.output())).isEqualTo(new TreeSet<>(sent.keySet()));
        assertThat(listing.output()).contains("-- ").contains("in " + sent.size() + " Requests.");

        // restart: recovery runs, then a clean SIGTERM must let the JVM exit
        try (BackstopProcess again = BackstopProcess.serve(config)) {
            assertThat(again.stop()).as(again.output()).isZero();
        }

        try (MailQueue queue = H2MailQueue.open(new QueueConfig(dir.resolve("queue"), java.time.Duration.ofDays(5), 1, 4.0,
                64L << 20), 50L << 20, Clock.systemUTC())) {
            List<QueuedMessage> all = queue.list(10_000);
            assertThat(all).hasSize(sent.size());
            for (QueuedMessage m : all) {
                byte[] expected = sent.get(m.id().value());
                byte[] stored;
                try (InputStream in = queue.openBody(m.id())) {
                    stored = in.readAllBytes();
                }
                String text = new String(stored, java.nio.charset.StandardCharsets.ISO_8859_1);
                assertThat(text).startsWith("Received: from client.test ([127.0.0.1])\r\n\tby backstop.it.test");
                int headerEnd = text.indexOf("\r\n", text.indexOf("\tfor <")) + 2;
                byte[] content = java.util.Arrays.copyOfRange(stored, headerEnd, stored.length);
                assertThat(content).as(m.id().value()).isEqualTo(expected);
                assertThat(m.sender()).isEqualTo("alice@sender.test");
                assertThat(m.recipients()).extracting(r -> r.address()).containsExactly("bob@example.test");
                assertThat(m.size()).isEqualTo(stored.length);
            }
        }
        // nothing of the session cut mid-DATA: one spool file per queued message, no more
        try (Stream<Path> files = Files.walk(dir.resolve("queue").resolve("spool"))) {
            assertThat(files.filter(Files::isRegularFile).count()).isEqualTo(sent.size());
        }
    }

    private static Set<String> ids(String listing) {
        Set<String> ids = new TreeSet<>();
        Matcher m = LISTED_ID.matcher(listing);
        while (m.find()) {
            ids.add(m.group(1));
        }
        return ids;
    }

    static QueueId id(String s) {
        return new QueueId(s);
    }
}
