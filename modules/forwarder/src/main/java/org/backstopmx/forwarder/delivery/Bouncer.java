package org.backstopmx.forwarder.delivery;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.MailExtension;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.forwarder.dsn.DsnAction;
import org.backstopmx.forwarder.dsn.DsnComposer;
import org.backstopmx.forwarder.dsn.DsnRecipient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Queues a delivery status notification (RFC 3464) to a message's sender: composed straight into a new spool file and
 * committed like any received message, from the null sender, to the original sender, so the forwarder delivers it by
 * MX lookup of the sender's domain. A message from {@code <>} never gets one (RFC 5321 §4.5.5: no bounce loops).
 */
final class Bouncer {
    private static final Logger LOG = LoggerFactory.getLogger("org.backstopmx.queue.MessageLog");

    private final MailQueue queue;
    private final DsnComposer composer;
    private final String hostname;
    private final Clock clock;

    Bouncer(MailQueue queue, DsnComposer composer, String hostname, Clock clock) {
        this.queue = Objects.requireNonNull(queue, "queue");
        this.composer = Objects.requireNonNull(composer, "composer");
        this.hostname = Objects.requireNonNull(hostname, "hostname");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Queues one DSN for {@code recipients} of {@code original}; returns once it is durable.
     *
     * @throws QueueException when it could not be stored (nothing of it is left behind)
     */
    QueueId send(Envelope original, List<DsnRecipient> recipients) throws QueueException {
        if (original.isNullSender()) {
            throw new IllegalArgumentException(original.id() + ": a message from <> gets no DSN");
        }
        QueueId id = QueueId.next(clock);
        try (IncomingMessage message = queue.receive(id)) {
            CountingStream out = new CountingStream(message.body());
            try {
                composer.write(original, recipients, id, () -> {
                    try {
                        return queue.openBody(original.id());
                    } catch (QueueException e) {
                        throw new IOException(e.getMessage(), e);
                    }
                }, out);
                out.flush();
            } catch (IOException e) {
                message.abort();
                throw new QueueException(QueueException.Kind.STORAGE_ERROR,
                        original.id() + ": cannot write the delivery status notification: " + e.getMessage(), e);
            }
            message.commit(new Envelope(id, clock.instant(), null, hostname, "", null, null, out.count,
                    List.of(EnvelopeRecipient.of(original.sender())), needs(original, out.eightBit)));
        }
        boolean failed = recipients.stream().anyMatch(r -> r.action() == DsnAction.FAILED);
        LOG.info("{}: sender {} notification: {}", original.id(), failed ? "non-delivery" : "delay", id);
        return id;
    }

    /**
     * What the DSN needs from the server it goes to: SMTPUTF8 when it goes to a UTF-8 address or carries a
     * message that needed it, 8BITMIME when it has 8-bit octets (a UTF-8 text part, an 8-bit original).
     */
    private static Set<MailExtension> needs(Envelope original, boolean eightBit) {
        Set<MailExtension> needs = EnumSet.noneOf(MailExtension.class);
        if (original.needs(MailExtension.SMTPUTF8)
                || !StandardCharsets.US_ASCII.newEncoder().canEncode(original.sender())) {
            needs.add(MailExtension.SMTPUTF8);
        }
        if (eightBit) {
            needs.add(MailExtension.EIGHTBITMIME);
        }
        return needs;
    }

    /** Counts what is written, for the envelope's size, and notes 8-bit octets. */
    private static final class CountingStream extends FilterOutputStream {
        long count;
        boolean eightBit;

        CountingStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
            eightBit |= (b & 0x80) != 0;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
            for (int i = off; i < off + len && !eightBit; i++) {
                eightBit = b[i] < 0;
            }
        }
    }
}
