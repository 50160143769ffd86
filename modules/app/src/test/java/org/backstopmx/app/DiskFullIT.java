package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.SmallFileSystem;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The queue's file system fills up under a running appliance: its own JVM, its queue on a 24 MB tmpfs the test
 * mounts, the primary down, the file system filled by a file the test writes. Below the free-space reserve MAIL is
 * answered {@code 452 4.3.1} and {@code /health/ready} is 503 with {@code backstop_queue_writable} 0; with a reserve
 * low enough for MAIL to pass, a big message fails at the end of DATA, and small ones sent while the space runs out
 * (the database's own writes failing, H2 closing it) get {@code 250} or a 4xx, nothing else. Once the filler is
 * removed, readiness, the gauge and accepting come back by themselves; exactly the messages answered 250 are queued;
 * and once the primary is up, each of them is delivered once, byte for byte, within a bound, with no restart.
 */
class DiskFullIT {
    private static final Pattern METRICS_PORT = Pattern.compile("metrics and health listening on [^:]+:(\\d+)");
    private static final Pattern WRITABLE = Pattern.compile("(?m)^backstop_queue_writable(?:\\{[^}]*})? (\\S+)$");
    private static final Pattern QUEUED_AS = Pattern.compile("^250 2\\.0\\.0 Ok: queued as ([0-9A-F]{16})$");
    private static final Pattern REFUSED = Pattern.compile("^(452 4\\.3\\.1|451 4\\.3\\.0) .*");
    private static final Pattern LISTED_ID = Pattern.compile("(?m)^([0-9A-F]{16})\\s");
    private static final Pattern TAG = Pattern.compile("Subject: disk-full (\\S+)\r\n");
    private static final Duration FLIP = Duration.ofSeconds(30);
    private static final Duration DELIVERY = Duration.ofSeconds(90);
    private static final String ADMIN_TOKEN = "disk-full-it-3f9a1c7e5b2d4086a1e2";
    private static final long DEFAULT_RESERVE = 3L << 19; // 1.5 x smtp.max-message-size of 1 MiB

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    /** Tag -> content of every message answered 250, and its queue id. */
    private final Map<String, byte[]> accepted = new LinkedHashMap<>();
    private final Map<String, String> acceptedIds = new LinkedHashMap<>();
    private final Set<String> refused = new TreeSet<>();
    private int sent;

    @Test
    void aFullDiskRefusesWhatItCannotStoreLosesNothingAndEverythingResumesByItself() throws Exception {
        SmallFileSystem fs = null;
        try {
            fs = SmallFileSystem.mount(dir.resolve("small"), 24L << 20);
        } catch (SmallFileSystem.Unmountable e) {
            Assumptions.abort("needs a tmpfs of its own for the queue: " + e.getMessage());
        }
        try (SmallFileSystem small = fs; FakePrimaryMx primary = FakePrimaryMx.start()) {
            primary.stop(); // down: nothing is delivered until it comes back
            Path queue = small.root().resolve("queue");
            belowTheReserveMailIsRefused(small, writeConfig("one.yaml", primary.port(), queue, "1MB", "0", 0));
            int adminPort = freePort();
            whatCannotBeStoredIsRefusedAndTheRestIsDelivered(small, primary, adminPort,
                    writeConfig("two.yaml", primary.port(), queue, "4MB", "4KB", adminPort));
        }
    }

    /** The default reserve, 1.5 × max-message-size: below it MAIL is refused up front, and the queue says so. */
    private void belowTheReserveMailIsRefused(SmallFileSystem small, Path config) throws Exception {
        try (BackstopProcess backstop = BackstopProcess.serve(config)) {
            int metrics = metricsPort(backstop);
            for (int i = 0; i < 12; i++) {
                assertAccepted(send(backstop.smtp(), 2_000 + 17_000 * i));
            }
            assertThat(ready(metrics)).isEqualTo(200);
            assertThat(writable(metrics)).isEqualTo(1);

            small.leaveFree(DEFAULT_RESERVE / 2);
            await().atMost(FLIP).until(() -> ready(metrics) == 503);
            assertThat(readyBody(metrics)).startsWith("not ready: the queue does not take mail: ")
                    .contains("below the free-space reserve of " + DEFAULT_RESERVE + " bytes");
            assertThat(writable(metrics)).isZero();
            for (int i = 0; i < 3; i++) {
                Reply r = send(backstop.smtp(), 4_000);
                assertThat(r.stage()).isEqualTo("MAIL");
                assertThat(r.text()).startsWith("452 4.3.1 ");
                refused.add(r.tag());
            }
            small.leaveFree(0);
            Reply none = send(backstop.smtp(), 4_000);
            assertThat(none.text()).as("not a byte free").startsWith("452 4.3.1 ");
            refused.add(none.tag());

            small.removeFiller();
            await().atMost(FLIP).until(() -> ready(metrics) == 200);
            assertThat(writable(metrics)).isEqualTo(1);
            for (int i = 0; i < 3; i++) {
                assertAccepted(send(backstop.smtp(), 3_000 + 1_000 * i));
            }
            assertThat(backstop.stop()).as(backstop.output()).isZero();
            assertNoThreadDied(backstop);
        }
    }

    /**
     * A reserve of one page, low enough for MAIL to pass: a big message fails at the end of DATA, small ones sent while
     * the space runs out get 250 or a 4xx, and database writes on a full file system make H2 close the database. Once
     * there is room again everything resumes by itself, and with the primary up every acknowledged message arrives.
     */
    private void whatCannotBeStoredIsRefusedAndTheRestIsDelivered(SmallFileSystem small, FakePrimaryMx primary,
            int adminPort, Path config) throws Exception {
        try (BackstopProcess backstop = BackstopProcess.serve(config)) {
            try {
                int metrics = metricsPort(backstop);
                await().atMost(FLIP).until(() -> ready(metrics) == 200);

                small.leaveFree(1L << 20);
                Reply big = send(backstop.smtp(), 3 << 20);
                assertThat(big.stage()).as(big.toString()).isEqualTo("DOT");
                assertThat(big.text()).matches(REFUSED);
                refused.add(big.tag());

                // the space runs out under small messages: whatever fails first (the body file, the database, the
                // reserve at MAIL), each is answered 250 or 451 4.3.0 / 452 4.3.1, nothing else
                for (long leave : new long[] {64 << 10, 16 << 10, 8 << 10, 4 << 10, 4 << 10, 8 << 10, 4 << 10, 0}) {
                    small.leaveFree(leave);
                    Reply r = send(backstop.smtp(), 1_500);
                    if (r.text().startsWith("250 ")) {
                        assertAccepted(r);
                    } else {
                        assertThat(r.text()).as(r.toString()).matches(REFUSED);
                        refused.add(r.tag());
                    }
                }

                // not a byte left while the database is written (an administrator's hold and release, as fast as
                // they are answered): once H2 has to grow its file the write fails, H2 closes the database, and the
                // admin API says 503
                String target = acceptedIds.values().iterator().next();
                int refusedWrites = 0;
                long deadline = System.nanoTime() + FLIP.toNanos();
                while (refusedWrites == 0 && System.nanoTime() < deadline) {
                    small.leaveFree(0);
                    for (String action : List.of("hold", "release")) {
                        int status = admin(adminPort, "/queue/" + target + "/" + action);
                        assertThat(status).as(action).isIn(200, 503);
                        refusedWrites += status == 503 ? 1 : 0;
                    }
                }
                assertThat(refusedWrites).as("a database write on a full file system fails").isPositive();
                await().atMost(FLIP).until(() -> ready(metrics) == 503);
                assertThat(readyBody(metrics)).startsWith("not ready: the queue does not take mail: ");
                assertThat(writable(metrics)).isZero();

                small.removeFiller();
                await().atMost(FLIP).until(() -> ready(metrics) == 200);
                assertThat(writable(metrics)).isEqualTo(1);
                assertThat(admin(adminPort, "/queue/" + target + "/release")).isEqualTo(200); // if its last hold stuck
                long closedByH2 = backstop.lines().stream().filter(l -> l.contains("is not open any more")).count();
                long reopened = backstop.lines().stream().filter(l -> l.contains("QueueDatabase: queue database")
                        && l.contains(" reopened (it was closed")).count();
                assertThat(reopened).as("every database H2 closed is reopened").isEqualTo(closedByH2);
                for (int i = 0; i < 3; i++) {
                    assertAccepted(send(backstop.smtp(), 5_000 + 3_000 * i)); // accepting again, by itself
                }

                // exactly the messages answered 250 are queued: no refused one, no acknowledged one missing
                BackstopProcess.Result list = BackstopProcess.run("queue", "list", "--limit", "1000", "--config",
                        config.toString());
                assertThat(list.exitCode()).as(list.output()).isZero();
                assertThat(ids(list.output())).isEqualTo(new TreeSet<>(acceptedIds.values()));

                // the primary comes back: every acknowledged message arrives once, byte for byte, with no restart
                primary.restart();
                await().atMost(DELIVERY).until(() -> delivered(primary).keySet().containsAll(accepted.keySet()));
                Map<String, List<byte[]>> delivered = delivered(primary);
                for (Map.Entry<String, byte[]> e : accepted.entrySet()) {
                    assertThat(delivered.get(e.getKey())).as("deliveries of " + e.getKey()).hasSize(1);
                    byte[] data = delivered.get(e.getKey()).get(0);
                    byte[] content = e.getValue();
                    assertThat(new String(data, 0, 10, StandardCharsets.ISO_8859_1)).isEqualTo("Received: ");
                    assertThat(Arrays.copyOfRange(data, data.length - content.length, data.length))
                            .as("body of " + e.getKey()).isEqualTo(content);
                }
                assertThat(delivered.keySet()).doesNotContainAnyElementsOf(refused);
                await().atMost(DELIVERY).until(() -> BackstopProcess.run("queue", "list", "--config",
                        config.toString()).output().contains("Mail queue is empty"));
                assertThat(backstop.stop()).as(backstop.output()).isZero();
                assertNoThreadDied(backstop);
                System.out.printf("disk full: %d messages answered 250 and delivered once each, %d refused with"
                        + " 452 4.3.1 or 451 4.3.0, %d sent; %d database writes refused; the database closed by H2"
                        + " and reopened %d times%n", accepted.size(), refused.size(), sent, refusedWrites, reopened);
            } catch (AssertionError | RuntimeException e) {
                System.out.println("the appliance's log:\n" + backstop.output()); // kept in the test's output file
                throw e;
            }
        }
    }

    /** What one SMTP transaction came to: the stage whose reply ended it, and that reply. */
    private record Reply(String tag, String stage, String text, byte[] content) {
        @Override
        public String toString() {
            return tag + " at " + stage + ": " + text;
        }
    }

    /** One message of {@code size} bytes with a tag of its own, over a raw session, every reply read. */
    private Reply send(InetSocketAddress smtp, int size) throws IOException {
        String tag = "m" + (++sent);
        byte[] content = content(tag, size);
        try (SmtpTranscript t = new SmtpTranscript(smtp, 60_000)) {
            assertThat(t.reply()).startsWith("220 ");
            assertThat(t.command("EHLO client.test")).startsWith("250");
            String mail = t.command("MAIL FROM:<alice@sender.test>");
            if (!mail.startsWith("250 ")) {
                return new Reply(tag, "MAIL", mail, content);
            }
            String rcpt = t.command("RCPT TO:<bob@example.test>");
            if (!rcpt.startsWith("250 ")) {
                return new Reply(tag, "RCPT", rcpt, content);
            }
            String data = t.command("DATA");
            if (!data.startsWith("354 ")) {
                return new Reply(tag, "DATA", data, content);
            }
            t.sendBytes(content);
            String end = t.command(".");
            t.send("QUIT");
            return new Reply(tag, "DOT", end, content);
        }
    }

    private void assertAccepted(Reply r) {
        Matcher m = QUEUED_AS.matcher(r.text());
        assertThat(m.matches()).as(r.toString()).isTrue();
        accepted.put(r.tag(), r.content());
        acceptedIds.put(r.tag(), m.group(1));
    }

    /** CRLF lines, none starting with a dot, the tag in Subject and Message-ID; exactly {@code size} bytes or more. */
    private static byte[] content(String tag, int size) {
        StringBuilder b = new StringBuilder()
                .append("From: Alice <alice@sender.test>\r\n")
                .append("To: bob@example.test\r\n")
                .append("Subject: disk-full ").append(tag).append("\r\n")
                .append("Message-ID: <").append(tag).append("@sender.test>\r\n")
                .append("\r\n");
        for (int i = 0; b.length() < size; i++) {
            b.append(tag).append(" line ").append(i).append(' ')
                    .append(Integer.toHexString((tag.hashCode() * 31 + i) * 0x9E3779B9).repeat(8)).append("\r\n");
        }
        return b.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private static Map<String, List<byte[]>> delivered(FakePrimaryMx primary) {
        Map<String, List<byte[]>> byTag = new LinkedHashMap<>();
        for (FakePrimaryMx.Transaction t : primary.transactions()) {
            Matcher m = TAG.matcher(new String(t.data(), StandardCharsets.ISO_8859_1));
            if (m.find()) {
                byTag.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(t.data());
            }
        }
        return byTag;
    }

    private int ready(int port) throws Exception {
        return get(port, "/health/ready").statusCode();
    }

    private String readyBody(int port) throws Exception {
        return get(port, "/health/ready").body();
    }

    private double writable(int port) throws Exception {
        Matcher m = WRITABLE.matcher(get(port, "/metrics").body());
        assertThat(m.find()).as("backstop_queue_writable on /metrics").isTrue();
        return Double.parseDouble(m.group(1));
    }

    /** POST to the admin API; returns the status. */
    private int admin(int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + ADMIN_TOKEN).POST(HttpRequest.BodyPublishers.noBody())
                .timeout(Duration.ofSeconds(150)).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    private HttpResponse<String> get(int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The metrics port from the startup log; it is bound just after SMTP, whose line {@code serve} waited for. */
    private static int metricsPort(BackstopProcess backstop) {
        int[] port = {-1};
        await().atMost(FLIP).until(() -> {
            for (String line : backstop.lines()) {
                Matcher m = METRICS_PORT.matcher(line);
                if (m.find()) {
                    port[0] = Integer.parseInt(m.group(1));
                    return true;
                }
            }
            return false;
        });
        return port[0];
    }

    private static void assertNoThreadDied(BackstopProcess backstop) {
        assertThat(backstop.output()).doesNotContain("Exception in thread").doesNotContain("StackOverflowError");
    }

    private static Set<String> ids(String listing) {
        Set<String> ids = new TreeSet<>();
        Matcher m = LISTED_ID.matcher(listing);
        while (m.find()) {
            ids.add(m.group(1));
        }
        return ids;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private Path writeConfig(String name, int primaryPort, Path queue, String maxMessageSize, String minFreeSpace,
            int adminPort) throws IOException {
        Path config = dir.resolve(name);
        Files.writeString(config, "hostname: backstop.it.test\n"
                + "screen:\n  spf: off\n" // no SPF lookups through the machine's resolver
                + "smtp:\n  listen: 127.0.0.1:0\n  max-message-size: " + maxMessageSize + "\n"
                + "domains:\n  example.test:\n    route: 127.0.0.1:" + primaryPort + "\n"
                + "queue:\n  path: " + queue + "\n  min-free-space: " + minFreeSpace + "\n"
                + "probe:\n  interval: 1s\n"
                + "metrics:\n  listen: 127.0.0.1:0\n"
                + "admin:\n  listen: 127.0.0.1:" + adminPort + "\n  token: " + ADMIN_TOKEN + "\n");
        return config;
    }
}
