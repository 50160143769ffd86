package org.backstopmx.smtpin;

import java.util.Optional;
import org.apache.james.core.MailAddress;
import org.apache.james.core.MaybeSender;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.smtp.SMTPSession;

/**
 * SMTPUTF8 (RFC 6531) across MAIL and RCPT: the session decodes command lines as UTF-8
 * ({@link BackstopSmtpSession}); an address with UTF-8 in it is checked by {@link Utf8Address} and handed to James as
 * an ASCII stand-in, and the hooks that keep addresses take the real one from here.
 *
 * <p>Rules, as Postfix with {@code smtputf8_enable = yes}: UTF-8 in the MAIL address needs the {@code SMTPUTF8}
 * parameter on that MAIL, UTF-8 in a RCPT address needs it on the transaction's MAIL, else {@code 553 5.6.7}; an
 * address that is not valid UTF-8 mail syntax gets {@code 501 5.1.7} (sender) or {@code 501 5.1.3} (recipient).
 * James's own sequence checks (503 for RCPT before MAIL…) come first.
 */
final class Smtputf8 {
    static final String KEYWORD = "SMTPUTF8";

    private Smtputf8() {
    }

    /**
     * Before James parses a MAIL or RCPT argument: the argument James should parse (the ASCII stand-in when the
     * address has UTF-8 in it, noted as pending for the hooks), or {@code argument} itself.
     */
    static String beforeParsing(SMTPSession session, String argument) {
        Optional<Utf8Address.Parsed> parsed = Utf8Address.parseArgument(argument);
        if (parsed.isEmpty()) {
            return argument;
        }
        session.setAttachment(SessionKeys.UTF8_PENDING, parsed.get(), State.Transaction);
        return parsed.get() instanceof Utf8Address.Good good ? good.standIn() : ((Utf8Address.Bad) parsed.get()).standIn();
    }

    /**
     * After James's sequence and syntax checks: the refusal for the pending UTF-8 address, or null.
     *
     * @param mailArgument the MAIL argument when checking MAIL (its parameters declare SMTPUTF8), null for RCPT
     */
    static Response refusal(SMTPSession session, String mailArgument) {
        Utf8Address.Parsed pending = session.getAttachment(SessionKeys.UTF8_PENDING, State.Transaction).orElse(null);
        if (pending == null) {
            return null;
        }
        boolean mail = mailArgument != null;
        boolean declared = mail ? CommandParameters.has(mailArgument, KEYWORD) : declared(session);
        if (!declared) {
            return Replies.response(Replies.SMTPUTF8_UNDECLARED);
        }
        if (pending instanceof Utf8Address.Bad) {
            return Replies.response(mail ? Replies.SENDER_SYNTAX : Replies.RECIPIENT_SYNTAX);
        }
        return null;
    }

    /**
     * After a MAIL or RCPT command: the pending address is forgotten; a MAIL that was accepted keeps its sender and
     * whether it declared SMTPUTF8 (James hands a parameter without {@code =} to its hook only in upper case, while
     * keywords are case-insensitive).
     *
     * @param mailArgument the MAIL argument after a MAIL command, null after RCPT
     */
    static void afterCommand(SMTPSession session, Response response, String mailArgument) {
        Utf8Address.Parsed pending = session.removeAttachment(SessionKeys.UTF8_PENDING, State.Transaction).orElse(null);
        if (mailArgument == null || !"250".equals(response.getRetCode())) {
            return;
        }
        if (CommandParameters.has(mailArgument, KEYWORD)) {
            MailParameters.of(session).smtpUtf8 = true;
        }
        if (pending instanceof Utf8Address.Good good) {
            session.setAttachment(SessionKeys.UTF8_SENDER, good.address().address(), State.Transaction);
        }
    }

    /** Whether the transaction's MAIL declared SMTPUTF8. */
    static boolean declared(SMTPSession session) {
        return session.getAttachment(SessionKeys.MAIL_PARAMETERS, State.Transaction).map(v -> v.smtpUtf8).orElse(false);
    }

    /** The envelope sender as received ({@code ""} for {@code <>}), UTF-8 kept. */
    static String sender(SMTPSession session, MaybeSender sender) {
        return session.getAttachment(SessionKeys.UTF8_SENDER, State.Transaction).orElseGet(() -> sender.asString(""));
    }

    /** The local part of the recipient being handled, UTF-8 kept. */
    static String localPart(SMTPSession session, MailAddress rcpt) {
        return session.getAttachment(SessionKeys.UTF8_PENDING, State.Transaction)
                .filter(Utf8Address.Good.class::isInstance)
                .map(p -> ((Utf8Address.Good) p).address().localPart())
                .orElseGet(rcpt::getLocalPart);
    }
}
