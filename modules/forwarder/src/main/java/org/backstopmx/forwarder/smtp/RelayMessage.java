package org.backstopmx.forwarder.smtp;

import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.backstopmx.core.DsnRet;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.MailExtension;

/**
 * One message to relay to one destination: the envelope as stored (sender, DSN parameters, the recipients for this
 * destination) and its body.
 *
 * @param sender     the envelope sender; empty for the null sender {@code <>}
 * @param envId      the DSN {@code ENVID} as received (xtext), or null
 * @param ret        the DSN {@code RET}, or null
 * @param size       the stored size in bytes, sent as {@code SIZE=} and checked against the server's limit
 * @param recipients the recipients to deliver, at least one; their NOTIFY/ORCPT are passed on as received
 * @param body       the stored bytes, CRLF line endings, ending with CRLF
 * @param extensions what the server must offer for the message to be sent to it (SMTPUTF8, 8BITMIME)
 */
public record RelayMessage(
        String sender, String envId, DsnRet ret, long size, List<EnvelopeRecipient> recipients, BodySource body,
        Set<MailExtension> extensions) {

    /** A message that needs no extension. */
    public RelayMessage(String sender, String envId, DsnRet ret, long size, List<EnvelopeRecipient> recipients,
            BodySource body) {
        this(sender, envId, ret, size, recipients, body, Set.of());
    }

    public RelayMessage {
        Objects.requireNonNull(sender, "sender");
        Objects.requireNonNull(body, "body");
        recipients = List.copyOf(recipients);
        extensions = Set.copyOf(extensions);
        if (recipients.isEmpty()) {
            throw new IllegalArgumentException("no recipients");
        }
        if (size < 0) {
            throw new IllegalArgumentException("negative size");
        }
    }

    /** Relays a stored message to some of its recipients (those whose route is this destination). */
    public static RelayMessage of(Envelope envelope, List<EnvelopeRecipient> recipients, BodySource body) {
        return new RelayMessage(envelope.sender(), envelope.envId(), envelope.ret(), envelope.size(), recipients, body,
                envelope.extensions());
    }
}
