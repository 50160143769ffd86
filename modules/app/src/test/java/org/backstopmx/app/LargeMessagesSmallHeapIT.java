package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedInputStream;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
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
 * appliance whose whole heap is 64 MiB, and so are two concurrent 50 MB messages sent with BDAT, one as a single
 * chunk and one in 1 MiB chunks, stored byte for byte.
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

    @Test
    void fiftyMegabyteBdatMessagesDoNotExhaustASmallHeap() throws Exception {
        byte[] message = bdatMessage(50_000_000);
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(message);
        Path config = TestMail.writeConfig(dir, "");
        try (BackstopProcess backstop = BackstopProcess.serve(config, "-Xmx64m", "-XX:+ExitOnOutOfMemoryError")) {
            ExecutorService pool = Executors.newFixedThreadPool(2);
            Future<String> whole = pool.submit(() -> sendChunked(backstop, message, message.length));
            Future<String> inPieces = pool.submit(() -> sendChunked(backstop, message, 1 << 20));
            assertThat(whole.get()).startsWith("250 2.0.0 Ok: queued as");
            assertThat(inPieces.get()).startsWith("250 2.0.0 Ok: queued as");
            pool.shutdown();
            assertThat(backstop.isAlive()).as(backstop.output()).isTrue();
            assertThat(backstop.stop()).isZero();
            assertThat(backstop.output()).doesNotContain("OutOfMemoryError");
        }
        try (MailQueue queue = H2MailQueue.open(new QueueConfig(dir.resolve("queue"), java.time.Duration.ofDays(5), 1, 4.0,
                64L << 20), 50L << 20, Clock.systemUTC())) {
            List<QueuedMessage> all = queue.list(10);
            assertThat(all).hasSize(2);
            for (QueuedMessage m : all) {
                try (InputStream body = queue.openBody(m.id())) {
                    assertThat(digestAfterTrace(body)).as(m.id().value()).isEqualTo(digest);
                }
            }
        }
    }

    /** Lines of varied length, some ending in a bare LF and some starting with a dot: BDAT stores them as sent. */
    private static byte[] bdatMessage(int size) {
        byte[] out = new byte[size];
        byte[] head = "Subject: large bdat\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(head, 0, out, 0, head.length);
        int at = head.length;
        for (int line = 0; at < size; line++) {
            String text = (line % 1000 == 0 ? "." : "") + "z".repeat(50 + line % 900) + (line % 777 == 0 ? "\n" : "\r\n");
            byte[] b = text.getBytes(StandardCharsets.US_ASCII);
            int n = Math.min(b.length, size - at);
            System.arraycopy(b, 0, out, at, n);
            at += n;
        }
        return out;
    }

    private static String sendChunked(BackstopProcess backstop, byte[] message, int chunkSize) throws Exception {
        try (SmtpTranscript t = new SmtpTranscript(backstop.smtp(), 120_000)) {
            t.reply();
            assertThat(t.command("EHLO big.test")).contains("250-CHUNKING");
            assertThat(t.command("MAIL FROM:<big@sender.test> SIZE=" + message.length)).startsWith("250");
            assertThat(t.command("RCPT TO:<bob@example.test>")).startsWith("250");
            for (int at = 0; ; at += chunkSize) {
                int n = Math.min(chunkSize, message.length - at);
                boolean last = at + n == message.length;
                t.sendRaw("BDAT " + n + (last ? " LAST" : "") + "\r\n");
                t.socket().getOutputStream().write(message, at, n);
                String reply = t.reply();
                if (last || !reply.equals("250 2.0.0 " + n + " octets received")) {
                    return reply;
                }
            }
        }
    }

    /** SHA-256 of a stored body after our Received: header (whose folded lines start with a tab). */
    private static byte[] digestAfterTrace(InputStream stored) throws Exception {
        PushbackInputStream in = new PushbackInputStream(new BufferedInputStream(stored), 1);
        int previous = -1;
        int b;
        while ((b = in.read()) != -1) {
            if (previous == '\r' && b == '\n') {
                int next = in.read();
                if (next != '\t') {
                    if (next != -1) {
                        in.unread(next);
                    }
                    break;
                }
                b = next;
            }
            previous = b;
        }
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[1 << 16];
        for (int n; (n = in.read(buf)) > 0; ) {
            sha.update(buf, 0, n);
        }
        return sha.digest();
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
