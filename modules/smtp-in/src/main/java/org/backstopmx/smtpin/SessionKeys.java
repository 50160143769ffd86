package org.backstopmx.smtpin;

import java.util.List;
import org.apache.james.protocols.api.ProtocolSession.AttachmentKey;
import org.backstopmx.core.EnvelopeRecipient;

/** The session attachments Backstop adds to James's; all live in the transaction state, cleared by RSET and after DATA. */
final class SessionKeys {
    private SessionKeys() {
    }

    /** SIZE, RET, ENVID and BODY from the current MAIL command. */
    static final AttachmentKey<MailParameters.Values> MAIL_PARAMETERS =
            AttachmentKey.of("backstop.mail-parameters", MailParameters.Values.class);

    /** RCPTs of the current transaction refused for being over {@code smtp.max-recipients}. */
    static final AttachmentKey<Integer> OVERSHOOT = AttachmentKey.of("backstop.rcpt-overshoot", Integer.class);

    /** Accepted recipients with their DSN parameters, in order, without duplicates. */
    @SuppressWarnings("unchecked")
    static final AttachmentKey<List<EnvelopeRecipient>> RECIPIENTS =
            AttachmentKey.of("backstop.recipients", (Class<List<EnvelopeRecipient>>) (Object) List.class);
}
