package org.backstopmx.queue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.backstopmx.core.DsnRet;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.config.QueueConfig;

/** Bodies, envelopes and configs for the queue tests; bodies are derived from the id so any process can check them. */
final class TestMessages {
    static final long MAX_MESSAGE_SIZE = 10L * 1024 * 1024;

    private TestMessages() {
    }

    static QueueConfig config(Path dir) {
        return new QueueConfig(dir, Duration.ofDays(5), 0, 4.0, 64L * 1024 * 1024);
    }

    static QueueConfig config(Path dir, long compactMinSize) {
        return new QueueConfig(dir, Duration.ofDays(5), 0, 4.0, compactMinSize);
    }

    /**
     * A body of exactly {@code size} bytes that depends on the id: CRLF lines, 8-bit bytes (every value 0x80-0xFF),
     * and one line longer than the 998 octets RFC 5322 allows, since the queue must store bytes, not text.
     */
    static byte[] body(QueueId id, int size) {
        byte[] out = new byte[size];
        byte[] header = ("Message-ID: <" + id + "@test>\r\nSubject: caf\u00e9\r\n\r\n").getBytes(StandardCharsets.UTF_8);
        int seed = id.hashCode();
        for (int i = 0; i < size; i++) {
            if (i < header.length) {
                out[i] = header[i];
            } else if (i % 1500 == 1498) {
                out[i] = '\r';
            } else if (i % 1500 == 1499) {
                out[i] = '\n';
            } else {
                out[i] = (byte) (0x80 + ((i * 31 + seed) & 0x7F)); // 8-bit, never CR or LF
            }
        }
        return out;
    }

    static Envelope envelope(QueueId id, Clock clock, long size, String sender, String... recipients) {
        List<EnvelopeRecipient> rcpts = java.util.Arrays.stream(recipients).map(EnvelopeRecipient::of).toList();
        return new Envelope(id, clock.instant(), "192.0.2.7", "mail.example.net", sender, null, null, size, rcpts);
    }

    static Envelope dsnEnvelope(QueueId id, Clock clock, long size) {
        return new Envelope(id, clock.instant(), "2001:db8::25", "[192.0.2.1]", "", "QQ314159", DsnRet.HDRS, size,
                List.of(new EnvelopeRecipient("alice@example.org", "SUCCESS,DELAY", "rfc822;alice@example.org"),
                        new EnvelopeRecipient("bob@Example.ORG", "NEVER", null),
                        EnvelopeRecipient.of("carol@example.org")));
    }

    /** Receives, writes and commits one message; returns its id. */
    static QueueId put(MailQueue queue, Clock clock, int size) throws IOException, QueueException {
        QueueId id = QueueId.next(clock);
        byte[] body = body(id, size);
        try (IncomingMessage m = queue.receive(id)) {
            OutputStream out = m.body();
            out.write(body);
            m.commit(envelope(id, clock, body.length, "sender@example.net", "rcpt@example.org"));
        }
        return id;
    }

    static byte[] read(InputStream in) throws IOException {
        try (in) {
            return in.readAllBytes();
        }
    }
}
