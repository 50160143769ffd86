package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import jakarta.mail.Session;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueuedRecipient;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.RetryPolicy;
import org.backstopmx.testkit.FakePrimaryMx;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A delivery cut short because the stored message could not be read is our failure, not the destination's: the H2
 * queue's spool file is removed while the message is leased and its attempt waits for the primary's reply to DATA.
 * The body cannot be read once DATA is accepted, the connection is ended without the final dot, and the recipient is
 * deferred on the queue's short retry ({@link RetryPolicy#LOCAL_RETRY}), not {@code retry.min-backoff} (5 minutes
 * here); the destination stays up, and nothing was delivered.
 */
class BodyUnreadableDuringDeliveryTest {
    @TempDir
    Path dir;

    private FakePrimaryMx primary;
    private Appliance node;

    @AfterEach
    void stop() {
        SharedQueueNode.closeAll(node, primary);
    }

    @Test
    void theRecipientIsRetriedInAMinuteAndTheDestinationStaysUp() throws Exception {
        CountDownLatch atData = new CountDownLatch(1);
        CountDownLatch removed = new CountDownLatch(1);
        primary = FakePrimaryMx.start().answer((verb, rest) -> {
            if (verb.equals("DATA")) {
                atData.countDown();
                try {
                    removed.await(30, TimeUnit.SECONDS); // the test takes the body away meanwhile
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return null;
        });
        node = Appliance.start(InProcessConfig.serving(dir, primary.port(), Duration.ofSeconds(30)),
                Clock.systemUTC());
        assertThat(node.config().retry().minBackoff()).isGreaterThan(RetryPolicy.LOCAL_RETRY);
        QueueId id = send("unreadable");

        assertThat(atData.await(30, TimeUnit.SECONDS)).as("the attempt reached DATA").isTrue();
        Path spoolFile = spoolFileOf(id);
        Files.delete(spoolFile);
        Instant failedAt = Instant.now();
        removed.countDown();

        await().atMost(Duration.ofSeconds(30)).until(() -> recipient(id).state() == RecipientState.DEFERRED);
        QueuedRecipient r = recipient(id);
        System.out.printf("body unreadable: %s deferred at %s, next attempt at %s (%d s later; min-backoff %s);"
                + " last reply: %s%n", r.address(), failedAt, r.nextAttemptAt(),
                Duration.between(failedAt, r.nextAttemptAt()).toSeconds(), node.config().retry().minBackoff(),
                r.lastReply());
        assertThat(r.lastReply()).contains("the stored message could not be read").contains("QUEUE");
        assertThat(r.nextAttemptAt()).isBetween(failedAt.plus(RetryPolicy.LOCAL_RETRY).minusSeconds(5),
                failedAt.plus(RetryPolicy.LOCAL_RETRY).plusSeconds(30));
        assertThat(node.forwarder().isDown("example.test")).as("not the destination's fault").isFalse();
        assertThat(primary.transactions()).as("no message without its final dot counts as delivered").isEmpty();
    }

    private QueueId send(String tag) throws Exception {
        Session session = TestMail.session(node.smtpAddress());
        try (SMTPTransport t = (SMTPTransport) session.getTransport("smtp")) {
            t.connect();
            return new QueueId(TestMail.send(t, session, TestMail.message(tag, 3), "bob@example.test"));
        }
    }

    private Path spoolFileOf(QueueId id) throws Exception {
        try (Stream<Path> files = Files.walk(node.config().queue().path().resolve("spool"))) {
            List<Path> found = files.filter(p -> p.getFileName().toString().startsWith(id.value())).toList();
            assertThat(found).as("the spool file of %s", id).hasSize(1);
            return found.get(0);
        }
    }

    private QueuedRecipient recipient(QueueId id) {
        return node.queue().find(id).orElseThrow().recipients().get(0);
    }
}
