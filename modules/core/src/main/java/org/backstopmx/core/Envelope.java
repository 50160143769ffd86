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
 * @param spf           what the SPF check of the sender found at intake, or null when none was made (SPF off, a
 *                      trusted client, a message of ours, one received before the check existed)
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
        Set<MailExtension> extensions,
        SpfResult spf) {

    /** A message that needs no extension. */
    public Envelope(QueueId id, Instant receivedAt, String clientAddress, String clientHelo, String sender,
            String envId, DsnRet ret, long size, List<EnvelopeRecipient> recipients) {
        this(id, receivedAt, clientAddress, clientHelo, sender, envId, ret, size, recipients, Set.of(), null);
    }

    /** A message whose sender was not checked with SPF. */
    public Envelope(QueueId id, Instant receivedAt, String clientAddress, String clientHelo, String sender,
            String envId, DsnRet ret, long size, List<EnvelopeRecipient> recipients, Set<MailExtension> extensions) {
        this(id, receivedAt, clientAddress, clientHelo, sender, envId, ret, size, recipients, extensions, null);
    }

    /** This envelope with {@code newSize} as the body size. */
    public Envelope withSize(long newSize) {
        return new Envelope(id, receivedAt, clientAddress, clientHelo, sender, envId, ret, newSize, recipients,
                extensions, spf);
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

    /** What the SPF check at intake found, if one was made. */
    public Optional<SpfResult> spfResult() {
        return Optional.ofNullable(spf);
    }

    public Optional<DsnRet> dsnRet() {
        return Optional.ofNullable(ret);
    }
}
