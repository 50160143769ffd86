package org.backstopmx.app;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.backstopmx.core.config.AtExpiry;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.DeliveryConfig;
import org.backstopmx.core.config.QueueConfig;
import org.backstopmx.core.config.QueueType;
import org.backstopmx.core.config.RateConfig;
import org.backstopmx.core.config.RetryConfig;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.PostgresServer;

/**
 * The configuration of a node on the shared queue inside a test ({@code queue.type: postgresql}), on top of
 * {@link InProcessConfig}: its node id is also its {@code hostname}, so the primary tells the nodes apart by their
 * EHLO; no rate limits (every test client is 127.0.0.1); delivery timeouts of a second. The configuration is built
 * in code, past the validation, so the lease may be shorter than a real one may (1 minute at least).
 */
final class SharedQueueNode {
    /** Short, since the tests that kill a node or stop the database wait for its leases to run out. */
    static final Duration LEASE = Duration.ofSeconds(40);

    private SharedQueueNode() {
    }

    /** Closes each of {@code parts} that was started, whatever the others do. */
    static void closeAll(AutoCloseable... parts) {
        for (AutoCloseable c : parts) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // the others still close
            }
        }
    }

    /** A password file for the test server, which trusts every local connection and never reads it. */
    static Path passwordFile(Path dir) throws IOException {
        return Files.writeString(dir.resolve("db-password"), "unused-with-trust\n");
    }

    /** Node {@code node} on the queue at {@code url}, delivering to the primary at {@code primaryPort}. */
    static BackstopConfig config(Path dir, int primaryPort, String url, Path password, String node,
            Duration leaseTime, int concurrency) {
        return config(dir, primaryPort, url, password, node, leaseTime, concurrency, RetryConfig.defaults());
    }

    /** As {@link #config}, with the backoff of a recipient whose attempt failed. */
    static BackstopConfig config(Path dir, int primaryPort, String url, Path password, String node,
            Duration leaseTime, int concurrency, RetryConfig retry) {
        BackstopConfig d = InProcessConfig.serving(dir.resolve(node), primaryPort, Duration.ofSeconds(1));
        QueueConfig q = d.queue();
        DeliveryConfig t = d.delivery();
        BackstopConfig c = d
                .withQueue(new QueueConfig(q.path(), q.lifetime(), q.minFreeSpace(), q.compactRatio(),
                        q.compactMinSize(), q.expiryWarning(), AtExpiry.BOUNCE, QueueType.POSTGRESQL, url,
                        PostgresServer.USER, password, node, leaseTime))
                .withDelivery(new DeliveryConfig(concurrency, t.connectionReuseTime(), Duration.ofSeconds(1),
                        Duration.ofSeconds(1), Duration.ofSeconds(1), t.tls(), t.delayWarning(), t.bounceSizeLimit()))
                .withScreen(d.screen().withRate(RateConfig.off()));
        return new BackstopConfig(node, c.selfNames(), c.smtp(), c.domains(), c.routes(), c.queue(), retry,
                c.probe(), c.accept(), c.delivery(), c.dns(), c.metrics(), c.admin(), c.callout(), c.screen());
    }

    /** Sends a {@link TestMail#message} tagged {@code tag} to bob@example.test through {@code node}: 250 or throws. */
    static void send(Appliance node, String tag) throws Exception {
        jakarta.mail.Session session = TestMail.session(node.smtpAddress());
        try (org.eclipse.angus.mail.smtp.SMTPTransport t =
                (org.eclipse.angus.mail.smtp.SMTPTransport) session.getTransport("smtp")) {
            t.connect();
            TestMail.send(t, session, TestMail.message(tag, 3), "bob@example.test");
        }
    }

    /**
     * One transaction by hand, each reply awaited up to {@code timeoutMillis}; the replies up to the first refusal
     * (or to the end of DATA).
     */
    static java.util.List<String> tryToSend(Appliance node, String tag, int timeoutMillis) throws Exception {
        java.util.List<String> replies = new java.util.ArrayList<>();
        try (org.backstopmx.testkit.SmtpTranscript s = new org.backstopmx.testkit.SmtpTranscript(node.smtpAddress(),
                timeoutMillis)) {
            s.reply();
            s.command("EHLO client.test");
            for (String command : java.util.List.of("MAIL FROM:<alice@sender.test>", "RCPT TO:<bob@example.test>",
                    "DATA")) {
                String reply = s.command(command);
                replies.add(reply);
                if (!reply.startsWith("2") && !reply.startsWith("354")) {
                    return replies;
                }
            }
            s.sendRaw("From: alice@sender.test\r\nSubject: test " + tag + "\r\n\r\nnever stored\r\n");
            replies.add(s.command("."));
        }
        return replies;
    }

    private static final Pattern TAG = Pattern.compile("^Subject: test (\\S+)", Pattern.MULTILINE);

    /**
     * How many times the primary got each message of {@link TestMail#message} for each recipient: keys are
     * {@code "tag recipient"} ({@code "m1 bob@example.test"}).
     */
    static Map<String, Integer> deliveries(FakePrimaryMx primary) {
        Map<String, Integer> counts = new TreeMap<>();
        for (FakePrimaryMx.Transaction t : primary.transactions()) {
            String tag = tagOf(t);
            for (String rcpt : t.rcptTo()) {
                String address = rcpt.substring(rcpt.indexOf('<') + 1, rcpt.indexOf('>'));
                counts.merge(tag + " " + address, 1, Integer::sum);
            }
        }
        return counts;
    }

    /** The tag of the {@link TestMail#message} that {@code t} carried. */
    static String tagOf(FakePrimaryMx.Transaction t) {
        Matcher m = TAG.matcher(new String(t.data(), StandardCharsets.ISO_8859_1));
        return m.find() ? m.group(1) : "(no tag)";
    }

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** What {@code /health/ready} of {@code node} says: its status, a space, its body ({@code "200 ready"}). */
    static String ready(Appliance node) throws IOException, InterruptedException {
        return health(node, "ready");
    }

    /** What {@code /health/live} of {@code node} says, as {@link #ready}. */
    static String live(Appliance node) throws IOException, InterruptedException {
        return health(node, "live");
    }

    private static String health(Appliance node, String check) throws IOException, InterruptedException {
        URI uri = URI.create("http://127.0.0.1:" + node.metricsAddress().getPort() + "/health/" + check);
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + r.body().strip();
    }
}
