package org.backstopmx.forwarder.smtp;

import java.util.List;
import java.util.Objects;
import org.backstopmx.core.DsnRet;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;

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
 */
public record RelayMessage(
        String sender, String envId, DsnRet ret, long size, List<EnvelopeRecipient> recipients, BodySource body) {

    public RelayMessage {
        Objects.requireNonNull(sender, "sender");
        Objects.requireNonNull(body, "body");
        recipients = List.copyOf(recipients);
        if (recipients.isEmpty()) {
            throw new IllegalArgumentException("no recipients");
        }
        if (size < 0) {
            throw new IllegalArgumentException("negative size");
        }
    }

    /** Relays a stored message to some of its recipients (those whose route is this destination). */
    public static RelayMessage of(Envelope envelope, List<EnvelopeRecipient> recipients, BodySource body) {
        return new RelayMessage(envelope.sender(), envelope.envId(), envelope.ret(), envelope.size(), recipients, body);
    }
}
