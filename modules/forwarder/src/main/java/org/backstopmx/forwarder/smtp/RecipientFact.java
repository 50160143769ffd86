package org.backstopmx.forwarder.smtp;

import java.util.Objects;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.MailExtension;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.core.SmtpStage;

/**
 * What happened to one recipient of a relayed message on one connection, as {@link RelayClient} saw it. Facts only:
 * {@link org.backstopmx.forwarder.FailurePolicy#outcome} says what they mean (delivered, try again, fail for good).
 */
public sealed interface RecipientFact {

    /** The recipient as given. */
    EnvelopeRecipient recipient();

    /**
     * The server's reply that settled the recipient: the reply to MAIL, RCPT or DATA when that did not let the
     * transaction go on, else the reply after the final dot.
     */
    record Answered(EnvelopeRecipient recipient, SmtpReply reply, SmtpStage stage) implements RecipientFact {
        public Answered {
            Objects.requireNonNull(recipient, "recipient");
            Objects.requireNonNull(reply, "reply");
            Objects.requireNonNull(stage, "stage");
        }
    }

    /** The session ended before the recipient was settled. */
    record Unsettled(EnvelopeRecipient recipient, SessionFailure failure) implements RecipientFact {
        public Unsettled {
            Objects.requireNonNull(recipient, "recipient");
            Objects.requireNonNull(failure, "failure");
        }
    }

    /** Not sent: the message is larger than the SIZE the server announced (RFC 1870 §6.1). */
    record OverSizeLimit(EnvelopeRecipient recipient, long size, long limit) implements RecipientFact {
        public OverSizeLimit {
            Objects.requireNonNull(recipient, "recipient");
        }
    }

    /** Not sent: the message needs an extension the server does not offer (RFC 6531 §3.2). */
    record LacksExtension(EnvelopeRecipient recipient, MailExtension extension) implements RecipientFact {
        public LacksExtension {
            Objects.requireNonNull(recipient, "recipient");
            Objects.requireNonNull(extension, "extension");
        }
    }
}
