package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import jakarta.mail.Session;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.backstopmx.testkit.FakePrimaryMx;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recovery never deletes accepted mail, as an operator's worst day would test it, with the appliance as its own JVM:
 * rows removed from the database behind its back come back from the spool files at the next start; a spool file cut
 * during DATA is removed and counted; a database cut short or emptied stops the start with the file named and the way
 * out; {@code queue rebuild} then brings every message back, and every one reaches the primary.
 */
class QueueRecoveryIT {
    private static final Pattern MESSAGE_ID = Pattern.compile("Message-ID: <([^@>]+)@sender.test>");

    @TempDir
    Path dir;
    private FakePrimaryMx primary;

    @AfterEach
    void stopPrimary() throws Exception {
        if (primary != null) {
            primary.close();
        }
    }

    @Test
    void nothingAcceptedIsForgottenWhateverHappensToTheDatabase() throws Exception {
        primary = FakePrimaryMx.start();
        primary.stop(); // the primary is down while mail arrives
        Path config = dir.resolve("backstop.yaml");
        Files.writeString(config, "hostname: backstop.it.test\n"
                + "screen:\n  spf: off\n" // no SPF lookups through the machine's resolver
                + "smtp:\n  listen: 127.0.0.1:0\n"
                + "domains:\n  example.test:\n    route: 127.0.0.1:" + primary.port() + "\n"
                + "queue:\n  path: " + dir.resolve("queue") + "\n"
                + "metrics:\n  listen: 127.0.0.1:0\n"
                + "admin:\n  listen: 127.0.0.1:0\n");
        Path queueDir = dir.resolve("queue");
        Path db = queueDir.resolve("queue.mv.db");

        Map<String, String> sent = new LinkedHashMap<>(); // tag -> queue id
        try (BackstopProcess backstop = BackstopProcess.serve(config)) {
            Session session = TestMail.session(backstop.smtp());
            try (SMTPTransport t = (SMTPTransport) session.getTransport("smtp")) {
                t.connect();
                for (int i = 0; i < 21; i++) {
                    String tag = "recovery" + i;
                    sent.put(tag, TestMail.send(t, session, TestMail.message(tag, i), "bob@example.test"));
                }
            }
            assertThat(backstop.stop()).as(backstop.output()).isZero();
        }

        // 1. rows of three messages removed behind Backstop's back, and a spool file a crash cut during DATA
        List<String> lost = List.of(sent.get("recovery0"), sent.get("recovery7"), sent.get("recovery20"));
        deleteRows(queueDir, lost);
        String cutId = "0190F3A2B1C" + "FFFFF";
        Path cut = queueDir.resolve("spool").resolve(cutId.substring(7, 8)).resolve(cutId);
        try (FileChannel ch = FileChannel.open(cut, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap("BACKSTOP SPOOL 2\nReceived: from a session that was cut\r\n"
                    .getBytes(StandardCharsets.US_ASCII)));
        }
        try (BackstopProcess backstop = BackstopProcess.serve(config)) {
            assertThat(backstop.stop()).isZero();
            String log = backstop.output();
            assertThat(log).contains("restored 3 messages from spool files the database did not have")
                    .contains("removed 1 incomplete spool files (never acknowledged)");
            for (String id : lost) {
                assertThat(log).contains(id + ": restored from its spool file from=<alice@sender.test>");
            }
        }
        assertThat(cut).doesNotExist();
        assertThat(listed(config)).isEqualTo(new TreeSet<>(sent.values()));

        // 2. the database cut to half its size, then emptied: the appliance does not start on it
        long size = Files.size(db);
        try (FileChannel ch = FileChannel.open(db, StandardOpenOption.WRITE)) {
            ch.truncate(size / 2);
        }
        BackstopProcess.Result refused = BackstopProcess.run("serve", "--config", config.toString());
        assertThat(refused.exitCode()).as(refused.output()).isEqualTo(1);
        assertThat(refused.output()).contains("backstop: cannot start: the queue database " + db + " cannot be trusted")
                .contains("queue rebuild");
        try (FileChannel ch = FileChannel.open(db, StandardOpenOption.WRITE)) {
            ch.truncate(0);
        }
        refused = BackstopProcess.run("serve", "--config", config.toString());
        assertThat(refused.exitCode()).as(refused.output()).isEqualTo(1);
        assertThat(refused.output()).contains("it is empty while the spool holds 21 message files")
                .contains("queue rebuild");

        // 3. queue rebuild: a dry run changes nothing, the real one brings every message back
        BackstopProcess.Result dry = BackstopProcess.run("queue", "rebuild", "--dry-run", "--config",
                config.toString());
        assertThat(dry.exitCode()).as(dry.output()).isZero();
        assertThat(dry.output()).contains("21 messages (21 recipients) would be queued again")
                .contains("dry run: nothing was changed");
        assertThat(Files.size(db)).isZero();
        BackstopProcess.Result rebuilt = BackstopProcess.run("queue", "rebuild", "--config", config.toString());
        assertThat(rebuilt.exitCode()).as(rebuilt.output()).isZero();
        assertThat(rebuilt.output()).contains("21 messages (21 recipients) queued again")
                .contains("the old one moved to " + queueDir.resolve("quarantine"));
        assertThat(listed(config)).isEqualTo(new TreeSet<>(sent.values()));

        // 4. the primary comes back: every message accepted at the start is delivered, once
        primary.restart();
        try (BackstopProcess backstop = BackstopProcess.serve(config)) {
            await().atMost(Duration.ofSeconds(60)).until(() -> primary.transactions().size() >= sent.size());
            assertThat(backstop.stop()).isZero();
        }
        Map<String, Integer> delivered = new LinkedHashMap<>();
        for (FakePrimaryMx.Transaction t : primary.transactions()) {
            Matcher m = MESSAGE_ID.matcher(new String(t.data(), StandardCharsets.ISO_8859_1));
            assertThat(m.find()).isTrue();
            delivered.merge(m.group(1), 1, Integer::sum);
        }
        assertThat(delivered.keySet()).containsExactlyInAnyOrderElementsOf(sent.keySet());
        assertThat(delivered.values()).allMatch(n -> n == 1);
    }

    private static void deleteRows(Path queueDir, List<String> ids) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:h2:file:" + queueDir.resolve("queue")
                + ";MAX_COMPACT_TIME=0", "backstop", "")) {
            for (String sql : new String[] {"DELETE FROM attempt WHERE message_id = ?",
                    "DELETE FROM recipient WHERE message_id = ?", "DELETE FROM message WHERE id = ?"}) {
                try (PreparedStatement p = c.prepareStatement(sql)) {
                    for (String id : ids) {
                        p.setString(1, id);
                        p.executeUpdate();
                    }
                }
            }
            try (Statement s = c.createStatement()) {
                s.execute("SHUTDOWN");
            }
        }
    }

    private static Set<String> listed(Path config) throws Exception {
        BackstopProcess.Result listing = BackstopProcess.run("queue", "list", "--config", config.toString());
        assertThat(listing.exitCode()).as(listing.output()).isZero();
        Set<String> ids = new TreeSet<>();
        Matcher m = Pattern.compile("^([0-9A-F]{16})\\s", Pattern.MULTILINE).matcher(listing.output());
        while (m.find()) {
            ids.add(m.group(1));
        }
        return ids;
    }
}
