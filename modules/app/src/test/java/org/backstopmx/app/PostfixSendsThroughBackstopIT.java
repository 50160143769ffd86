package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.awaitility.core.ConditionTimeoutException;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.RateConfig;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.PostfixSender;
import org.backstopmx.testkit.SmtpSubmission;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backstop as a real sending MTA speaks to it: a separate instance of Debian's Postfix, at its defaults where it
 * matters (destination concurrency 20, PIPELINING, SMTPUTF8 on), relays everything for {@code example.test} to
 * Backstop on loopback, and Backstop hands it on to a {@link FakePrimaryMx}. Each recipient must reach the primary
 * exactly once, and Postfix must neither bounce a message nor be refused a connection.
 *
 * <p>Without Postfix on the machine the tests are skipped, except in CI ({@code CI=true}), where {@code .ci/run}
 * installs it and its absence fails them.
 */
class PostfixSendsThroughBackstopIT {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Duration FLUSH_EVERY = Duration.ofSeconds(10);
    private static final String SENDER = "sender@sender.test";

    @TempDir
    Path dir;

    private FakePrimaryMx primary;
    private Appliance appliance;
    private PostfixSender postfix;

    @BeforeAll
    static void postfixInstalled() {
        if ("true".equals(System.getenv("CI"))) {
            assertThat(PostfixSender.isInstalled()).as("postfix (Debian package 'postfix') is needed in CI").isTrue();
        } else {
            assumeTrue(PostfixSender.isInstalled(), "postfix is not installed: apt-get install postfix");
        }
    }

    private void start(String... postfixSettings) throws Exception {
        primary = FakePrimaryMx.start();
        // the bursts here, 300 connections from one local Postfix, are far over the default screen.rate.*; what is
        // tested is the connection handling, so the rate limits are off
        BackstopConfig config = InProcessConfig.serving(dir, primary.port(), Duration.ofHours(1));
        appliance = Appliance.start(config.withScreen(config.screen().withRate(RateConfig.off())), Clock.systemUTC());
        List<String> settings = new ArrayList<>(List.of(
                // Postfix's default, written out because the test is about it; smtp_destination_concurrency_limit
                // is left to follow it
                "default_destination_concurrency_limit", "20"));
        settings.addAll(List.of(postfixSettings));
        postfix = PostfixSender.start("example.test", appliance.smtpAddress().getPort(),
                PostfixSender.settings(settings.toArray(String[]::new)));
    }

    @AfterEach
    void stop() throws Exception {
        if (postfix != null) {
            postfix.close();
        }
        if (appliance != null) {
            appliance.close();
        }
        if (primary != null) {
            primary.close();
        }
    }

    @Test
    void aMessageForThreeHundredRecipientsReachesEachOfThemOnce() throws Exception {
        // Postfix batches 50 recipients per transaction by default; lifted, all 300 go in one pipelined transaction,
        // more than smtp.max-recipients, so Backstop answers the rest 452 4.5.3 and Postfix sends them again later
        start("smtp_destination_recipient_limit", "1000");
        List<String> recipients = new ArrayList<>();
        for (int i = 1; i <= 300; i++) {
            recipients.add("r" + i + "@example.test");
        }
        byte[] content = message("<many@sender.test>", "undisclosed-recipients:;", "300 recipients", "ASCII only.");
        try (SmtpSubmission submit = new SmtpSubmission(postfix.smtpd())) {
            submit.send(SENDER, recipients, content);
        }

        awaitAllDelivered(300);
        assertThat(deliveriesPerRecipient()).as(postfix.log()).isEqualTo(once(recipients));
        for (FakePrimaryMx.Transaction t : primary.transactions()) {
            assertThat(endsWith(t.data(), content)).as("the message as submitted").isTrue();
        }
        String log = postfix.log();
        assertThat(log).as(log).doesNotContain("status=bounced");
        if (appliance.config().smtp().maxRecipients() < recipients.size()) {
            assertThat(log).as("the recipients over smtp.max-recipients were deferred by 452 and sent again:\n" + log)
                    .containsPattern("status=deferred .*452 4\\.5\\.3");
        }
    }

    @Test
    void aBurstAtDestinationConcurrencyTwentyIsTakenWithoutARefusedConnection() throws Exception {
        // with its connection cache Postfix would carry the burst over a few connections; without it every message
        // has a connection of its own, as when mail comes in slower than it goes out: twenty at a time, each one
        // opened as another closes, which is what a per-address connection count must not miscount
        start("smtp_connection_cache_on_demand", "no");
        int count = 300;
        List<String> recipients = new ArrayList<>();
        try (SmtpSubmission submit = new SmtpSubmission(postfix.smtpd())) {
            for (int i = 1; i <= count; i++) {
                String rcpt = "b" + i + "@example.test";
                recipients.add(rcpt);
                submit.send(SENDER, List.of(rcpt),
                        message("<burst-" + i + "@sender.test>", "<" + rcpt + ">", "burst " + i, "message " + i));
            }
        }

        awaitAllDelivered(count);
        assertThat(deliveriesPerRecipient()).isEqualTo(once(recipients));
        for (FakePrimaryMx.Transaction t : primary.transactions()) {
            String rcpt = addressOf(t.rcptTo().get(0));
            String n = rcpt.substring(1, rcpt.indexOf('@'));
            assertThat(new String(t.data(), StandardCharsets.UTF_8)).contains("Message-ID: <burst-" + n + "@");
        }
        String log = postfix.log();
        assertThat(log).as(log).doesNotContain("Too many connections").doesNotContain(" 421 ")
                .doesNotContain("status=deferred").doesNotContain("status=bounced");
    }

    /**
     * RFC 6531: a UTF-8 local part in both envelope addresses, so Postfix (SMTPUTF8 on) sends it only to a server that
     * offers SMTPUTF8; until Backstop does, Postfix bounces it at once with 5.6.7, which is what this test catches.
     */
    @Test
    void anInternationalisedMessageArrivesByteForByte() throws Exception {
        start();
        primary.capabilities("PIPELINING", "8BITMIME", "SIZE 10485760", "DSN", "ENHANCEDSTATUSCODES", "SMTPUTF8");
        String from = "jörg@sender.test";
        String to = "jörg@example.test";
        // RFC 6532 §3.2: UTF-8 in header fields as it is, no encoded words; an 8-bit body with a leading dot
        byte[] content = message("Jörg <" + from + ">", "<utf8@sender.test>", "Jörg <" + to + ">",
                "Grüße aus Köln, Ελληνικά, 日本語", "Schöne Grüße\r\n.eine Zeile mit Punkt vorn\r\nJörg");
        try (SmtpSubmission submit = new SmtpSubmission(postfix.smtpd())) {
            submit.send(from, List.of(to), content);
        }

        awaitOrExplain(() -> true, "nothing else");
        String log = postfix.log();
        assertThat(log).as("Postfix bounced it (dsn=5.6.7: Backstop did not offer SMTPUTF8); its log:\n" + log)
                .doesNotContain("status=bounced");
        assertThat(primary.transactions()).as(log).hasSize(1);
        FakePrimaryMx.Transaction t = primary.transactions().get(0);
        assertThat(t.mailFrom()).contains("<" + from + ">").contains("SMTPUTF8");
        assertThat(t.rcptTo()).singleElement().satisfies(r -> assertThat(addressOf(r)).isEqualTo(to));
        assertThat(endsWith(t.data(), content)).as("the message as submitted, after the Received: lines").isTrue();
        String added = new String(t.data(), 0, t.data().length - content.length, StandardCharsets.UTF_8);
        assertThat(added.split("\r\n")).allSatisfy(line -> assertThat(line).matches("(Received:|[ \t]).*"));
    }

    /** Until Postfix's queue and Backstop's are empty and the primary has had this many deliveries. */
    private void awaitAllDelivered(int recipients) {
        awaitOrExplain(() -> deliveries() >= recipients, "the primary has had " + recipients + " deliveries");
    }

    private void awaitOrExplain(Callable<Boolean> alsoTrue, String what) {
        try {
            // Postfix retries deferred mail on its own within seconds here; on a loaded machine its queue manager
            // has been seen to sit on it for a minute, so the wait also flushes it now and then, as an admin would
            long[] lastFlush = {System.nanoTime()};
            await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).until(() -> {
                if (postfix.queued() > 0 && System.nanoTime() - lastFlush[0] > FLUSH_EVERY.toNanos()) {
                    lastFlush[0] = System.nanoTime();
                    postfix.flush();
                }
                return postfix.queued() == 0 && appliance.queue().list(10).isEmpty() && alsoTrue.call();
            });
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("not within " + WAIT.toSeconds() + " s: Postfix's queue empty ("
                    + postfix.queued() + " left), Backstop's queue empty (" + appliance.queue().list(1000).size()
                    + " left), " + what + " (" + deliveries() + " so far); Postfix's log:\n" + postfix.log(), e);
        }
    }

    private int deliveries() {
        return deliveriesPerRecipient().values().stream().mapToInt(Integer::intValue).sum();
    }

    /** How often each recipient arrived at the primary, over all its transactions. */
    private Map<String, Integer> deliveriesPerRecipient() {
        Map<String, Integer> count = new TreeMap<>();
        for (FakePrimaryMx.Transaction t : primary.transactions()) {
            for (String rcpt : t.rcptTo()) {
                count.merge(addressOf(rcpt), 1, Integer::sum);
            }
        }
        return count;
    }

    private static Map<String, Integer> once(List<String> recipients) {
        return recipients.stream().collect(Collectors.toMap(r -> r, r -> 1, (a, b) -> a, TreeMap::new));
    }

    /** {@code TO:<a@b> NOTIFY=...} → {@code a@b}. */
    private static String addressOf(String rcptArgument) {
        return rcptArgument.substring(rcptArgument.indexOf('<') + 1, rcptArgument.indexOf('>'));
    }

    /**
     * A message with every header Postfix's cleanup would otherwise add (Date, Message-ID, From), so that what
     * arrives is the message as submitted with only Received: lines before it.
     */
    private static byte[] message(String messageId, String to, String subject, String body) {
        return message("Sender <" + SENDER + ">", messageId, to, subject, body);
    }

    private static byte[] message(String from, String messageId, String to, String subject, String body) {
        return String.join("\r\n",
                "From: " + from,
                "To: " + to,
                "Subject: " + subject,
                "Date: Wed, 02 Dec 2026 04:00:00 +0000",
                "Message-ID: " + messageId,
                "MIME-Version: 1.0",
                "Content-Type: text/plain; charset=UTF-8",
                "Content-Transfer-Encoding: 8bit",
                "",
                body,
                "").getBytes(StandardCharsets.UTF_8);
    }

    private static boolean endsWith(byte[] data, byte[] suffix) {
        if (data.length < suffix.length) {
            return false;
        }
        for (int i = 0; i < suffix.length; i++) {
            if (data[data.length - suffix.length + i] != suffix[i]) {
                return false;
            }
        }
        return true;
    }
}
