package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueuedMessage;
import org.backstopmx.core.config.QueueConfig;
import org.backstopmx.queue.H2MailQueue;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Message bodies go straight to the spool file as they arrive: four concurrent 48 MiB messages are accepted by an
 * appliance whose whole heap is 64 MiB.
 */
class LargeMessagesSmallHeapIT {
    private static final int MESSAGES = 4;
    private static final int LINES = 48 * 1024 * 1024 / 1024;

    @TempDir
    Path dir;

    @Test
    void concurrentLargeMessagesDoNotExhaustASmallHeap() throws Exception {
        Path config = TestMail.writeConfig(dir, "");
        List<String> replies = new ArrayList<>();
        try (BackstopProcess backstop = BackstopProcess.serve(config, "-Xmx64m", "-XX:+ExitOnOutOfMemoryError")) {
            ExecutorService pool = Executors.newFixedThreadPool(MESSAGES);
            List<Future<String>> futures = new ArrayList<>();
            for (int m = 0; m < MESSAGES; m++) {
                int no = m;
                futures.add(pool.submit(() -> sendLarge(backstop, no)));
            }
            for (Future<String> f : futures) {
                replies.add(f.get());
            }
            pool.shutdown();
            assertThat(backstop.isAlive()).as(backstop.output()).isTrue();
            assertThat(backstop.stop()).isZero();
            assertThat(backstop.output()).doesNotContain("OutOfMemoryError");
        }
        assertThat(replies).allMatch(r -> r.startsWith("250 2.0.0"), "all queued");
        try (MailQueue queue = H2MailQueue.open(new QueueConfig(dir.resolve("queue"), java.time.Duration.ofDays(5), 1, 4.0,
                64L << 20), 50L << 20, Clock.systemUTC())) {
            List<QueuedMessage> all = queue.list(10);
            assertThat(all).hasSize(MESSAGES);
            assertThat(all).allMatch(m -> m.size() > 48L * 1024 * 1024);
        }
    }

    private static String sendLarge(BackstopProcess backstop, int no) throws Exception {
        try (SmtpTranscript t = new SmtpTranscript(backstop.smtp(), 120_000)) {
            t.reply();
            t.command("EHLO big.test");
            t.command("MAIL FROM:<big@sender.test> SIZE=" + (LINES * 1024L + 100));
            t.command("RCPT TO:<bob@example.test>");
            String go = t.command("DATA");
            if (!go.startsWith("354")) {
                return go;
            }
            t.sendRaw("Subject: large " + no + "\r\n\r\n");
            byte[] line = ("y".repeat(1022) + "\r\n").getBytes(StandardCharsets.US_ASCII);
            byte[] chunk = new byte[line.length * 256];
            for (int i = 0; i < 256; i++) {
                System.arraycopy(line, 0, chunk, i * line.length, line.length);
            }
            for (int i = 0; i < LINES / 256; i++) {
                t.sendBytes(chunk);
            }
            t.sendRaw(".\r\n");
            return t.reply();
        }
    }
}
