package org.backstopmx.forwarder.smtp;

import java.util.Objects;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.EnvelopeRecipient;

/**
 * What one recipient of a relayed message came to on this connection.
 *
 * @param recipient the recipient as given
 * @param outcome   delivered, transient or permanent, with the remote reply, host and stage
 * @param detail    when there was no remote reply (connection refused, timeout, connection lost, a local
 *                  refusal), one line saying what happened, for the log and the attempt history; otherwise null
 */
public record RecipientOutcome(EnvelopeRecipient recipient, DeliveryOutcome outcome, String detail) {
    public RecipientOutcome {
        Objects.requireNonNull(recipient, "recipient");
        Objects.requireNonNull(outcome, "outcome");
    }

    /** One line for logs: the reply, or the detail, or the stage. */
    public String describe() {
        if (outcome.reply() != null) {
            return outcome.reply().toString();
        }
        return detail != null ? detail + " at " + outcome.stage() : outcome.describe();
    }
}
