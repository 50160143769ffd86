package org.backstopmx.core;

import java.time.Instant;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Everything the queue keeps about a message besides its body.
 *
 * @param id            the queue id, which also names the body file
 * @param receivedAt    when the end of DATA arrived
 * @param clientAddress the client's IP address as text
 * @param clientHelo    the name the client gave in HELO/EHLO
 * @param sender        the envelope sender; the empty string is the null sender {@code <>}
 * @param envId         the DSN {@code ENVID} (RFC 3461 §4.4), or null
 * @param ret           the DSN {@code RET}, or null when not given
 * @param size          the body size in bytes as stored (our {@code Received:} header included)
 * @param recipients    the accepted recipients, at least one
 * @param extensions    the SMTP extensions every server it goes to must offer (SMTPUTF8, 8BITMIME), often none
 */
public record Envelope(
        QueueId id,
        Instant receivedAt,
        String clientAddress,
        String clientHelo,
        String sender,
        String envId,
        DsnRet ret,
        long size,
        List<EnvelopeRecipient> recipients,
        Set<MailExtension> extensions) {

    /** A message that needs no extension. */
    public Envelope(QueueId id, Instant receivedAt, String clientAddress, String clientHelo, String sender,
            String envId, DsnRet ret, long size, List<EnvelopeRecipient> recipients) {
        this(id, receivedAt, clientAddress, clientHelo, sender, envId, ret, size, recipients, Set.of());
    }

    public Envelope {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(receivedAt, "receivedAt");
        Objects.requireNonNull(sender, "sender");
        recipients = List.copyOf(recipients);
        extensions = extensions.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(extensions));
        if (recipients.isEmpty()) {
            throw new IllegalArgumentException("an envelope needs at least one recipient");
        }
        if (size < 0) {
            throw new IllegalArgumentException("negative size");
        }
    }

    public boolean isNullSender() {
        return sender.isEmpty();
    }

    public boolean needs(MailExtension extension) {
        return extensions.contains(extension);
    }

    public Optional<DsnRet> dsnRet() {
        return Optional.ofNullable(ret);
    }
}
