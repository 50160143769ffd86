package org.backstopmx.smtpin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Closing the server: the listener goes first, every open session is told {@code 421 4.3.2} and closed, and a session
 * in the middle of DATA either finishes within the grace (its message stored, then 250, then 421) or is cut with
 * nothing stored. The same holds for a message being sent in BDAT chunks.
 */
class ShutdownTest {
    private static final String NOTICE = "421 4.3.2 " + ServerFixture.HOST + " Service shutting down";
    /** Longer than any of these tests: the grace must end because the session finished, not because time ran out. */
    private static final Duration LONG_GRACE = Duration.ofSeconds(60);

    private ServerFixture fx;
    private InetSocketAddress address;

    @BeforeEach
    void start() throws Exception {
        fx = ServerFixture.standard();
        address = fx.address();
    }

    @AfterEach
    void stop() {
        fx.close();
    }

    @Test
    void idleSessionsAfterEhloAndAfterMailGet421AndAreClosed() throws Exception {
        try (SmtpTranscript afterEhlo = fx.client(); SmtpTranscript afterMail = fx.client()) {
            assertThat(afterMail.command("MAIL FROM:<a@s.test>")).startsWith("250");
            fx.server.close();
            assertThat(afterEhlo.reply()).startsWith(NOTICE);
            assertThat(afterEhlo.closedByServer()).isTrue();
            assertThat(afterMail.reply()).startsWith(NOTICE);
            assertThat(afterMail.closedByServer()).isTrue();
        }
        assertThat(refused(address)).isTrue();
        assertThat(fx.queue.stored()).isEmpty();
    }

    @Test
    void theListenerRefusesConnectionsWhileASessionFinishesItsData() throws Exception {
        try (SmtpTranscript t = fx.client()) {
            startData(t);
            t.sendRaw("Subject: in flight\r\n\r\nfirst half\r\n");
            CompletableFuture<Void> closing = CompletableFuture.runAsync(() -> fx.server.close(LONG_GRACE));
            await().atMost(Duration.ofSeconds(10)).until(() -> refused(address));
            assertThat(closing).isNotDone();

            t.sendRaw("second half\r\n.\r\n");
            assertThat(t.reply()).startsWith("250 2.0.0 Ok: queued as ");
            assertThat(t.reply()).startsWith(NOTICE);
            assertThat(t.closedByServer()).isTrue();
            closing.get(10, TimeUnit.SECONDS);
        }
        assertThat(fx.queue.stored()).hasSize(1);
        assertThat(new String(fx.queue.stored().get(0).body(), java.nio.charset.StandardCharsets.US_ASCII))
                .endsWith("first half\r\nsecond half\r\n");
        assertThat(refused(address)).isTrue();
    }

    @Test
    void aBdatMessageBetweenChunksMayFinishWithinTheGraceAndOneThatDoesNotIsDiscarded() throws Exception {
        try (SmtpTranscript finishing = fx.client(); SmtpTranscript stalled = fx.client()) {
            for (SmtpTranscript t : new SmtpTranscript[] {finishing, stalled}) {
                assertThat(t.command("MAIL FROM:<a@s.test>")).startsWith("250");
                assertThat(t.command("RCPT TO:<x@example.test>")).startsWith("250");
                t.sendRaw("BDAT 6\r\nfirst ");
                assertThat(t.reply()).isEqualTo("250 2.0.0 6 octets received");
            }
            CompletableFuture<Void> closing = CompletableFuture.runAsync(() -> fx.server.close(Duration.ofSeconds(3)));
            await().atMost(Duration.ofSeconds(10)).until(() -> refused(address));
            finishing.sendRaw("BDAT 4 LAST\r\nlast");
            assertThat(finishing.reply()).startsWith("250 2.0.0 Ok: queued as ");
            assertThat(finishing.reply()).startsWith(NOTICE);
            // the other never sends LAST: cut when the grace is over
            assertThat(stalled.reply()).startsWith(NOTICE);
            assertThat(stalled.closedByServer()).isTrue();
            closing.get(10, TimeUnit.SECONDS);
        }
        assertThat(fx.queue.stored()).singleElement()
                .satisfies(m -> assertThat(BdatTest.content(m.body())).isEqualTo("first last".getBytes()));
        assertThat(fx.queue.abortedCount()).isEqualTo(1);
        assertThat(fx.queue.openCount()).isZero();
    }

    @Test
    void aCommitUnderWayAtShutdownIsAcknowledgedBeforeThe421() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        fx.queue.holdCommitsUntil(gate);
        try (SmtpTranscript t = fx.client()) {
            startData(t);
            t.sendRaw("Subject: x\r\n\r\nbody\r\n.\r\n");
            fx.queue.commitWaiting().await();
            CompletableFuture<Void> closing = CompletableFuture.runAsync(() -> fx.server.close(LONG_GRACE));
            await().atMost(Duration.ofSeconds(10)).until(() -> refused(address));
            assertThat(fx.queue.stored()).isEmpty();

            gate.countDown();
            assertThat(t.reply()).startsWith("250 2.0.0");
            assertThat(t.reply()).startsWith(NOTICE);
            closing.get(10, TimeUnit.SECONDS);
        }
        assertThat(fx.queue.stored()).hasSize(1);
    }

    @Test
    void dataNotFinishedWithinTheGraceIsDiscardedAndAnswered421() throws Exception {
        try (SmtpTranscript t = fx.client(); SmtpTranscript idle = fx.client()) {
            startData(t);
            t.sendRaw("Subject: never finished\r\n\r\nhalf of it\r\n");
            fx.server.close(Duration.ofMillis(300));
            assertThat(idle.reply()).startsWith(NOTICE);
            assertThat(t.reply()).startsWith(NOTICE);
            assertThat(t.closedByServer()).isTrue();
        }
        assertThat(fx.queue.stored()).isEmpty();
        assertThat(fx.queue.abortedCount()).isEqualTo(1);
        assertThat(fx.queue.openCount()).isZero();
    }

    private static void startData(SmtpTranscript t) throws IOException {
        assertThat(t.command("MAIL FROM:<a@s.test>")).startsWith("250");
        assertThat(t.command("RCPT TO:<x@example.test>")).startsWith("250");
        assertThat(t.command("DATA")).startsWith("354");
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
