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

    /** The real sender when MAIL FROM had UTF-8 in it (James holds an ASCII stand-in, {@link Utf8Address}). */
    static final AttachmentKey<String> UTF8_SENDER = AttachmentKey.of("backstop.utf8-sender", String.class);

    /**
     * The UTF-8 address of the MAIL or RCPT command being handled, set just before James parses its ASCII stand-in
     * and removed right after, so the hook it reaches takes the real one.
     */
    static final AttachmentKey<Utf8Address.Parsed> UTF8_PENDING =
            AttachmentKey.of("backstop.utf8-pending", Utf8Address.Parsed.class);

    /** RCPTs of the current transaction refused for being over {@code smtp.max-recipients}. */
    static final AttachmentKey<Integer> OVERSHOOT = AttachmentKey.of("backstop.rcpt-overshoot", Integer.class);

    /** Accepted recipients with their DSN parameters, in order, without duplicates. */
    @SuppressWarnings("unchecked")
    static final AttachmentKey<List<EnvelopeRecipient>> RECIPIENTS =
            AttachmentKey.of("backstop.recipients", (Class<List<EnvelopeRecipient>>) (Object) List.class);
}
