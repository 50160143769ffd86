package org.backstopmx.smtpin;

import java.util.List;
import java.util.Locale;
import org.apache.james.core.MaybeSender;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.esmtp.EhloExtension;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.apache.james.protocols.smtp.hook.MailHook;
import org.apache.james.protocols.smtp.hook.MailParametersHook;
import org.backstopmx.core.DsnRet;
import org.backstopmx.core.MailQueue;

/**
 * The MAIL FROM parameters Backstop understands, and the checks made at MAIL time.
 * <ul>
 *   <li>{@code SIZE} (RFC 1870): parsed as a long, so {@code SIZE=99999999999} is "too large" (552 5.3.4), not a
 *       syntax error as in James; advertised in EHLO with the largest limit of a served domain
 *       ({@link SizeLimits}: ours, or the primary's when smaller).</li>
 *   <li>{@code RET} and {@code ENVID} (RFC 3461 §4.3, §4.4): validated and kept for the envelope; DSN is advertised.</li>
 *   <li>{@code BODY} (RFC 6152): 7BIT or 8BITMIME; 8-bit bodies are stored unchanged either way.</li>
 *   <li>{@code SMTPUTF8} (RFC 6531): takes no value; allows UTF-8 in the addresses ({@link Smtputf8}) and the header
 *       section; advertised in EHLO.</li>
 *   <li>Free space: with less room on the queue's disk than the reserve plus the declared size, MAIL gets
 *       452 4.3.1 before the client sends anything.</li>
 * </ul>
 */
final class MailParameters implements MailParametersHook, MailHook, EhloExtension {

    /** The parameters of the current MAIL command. */
    static final class Values {
        long declaredSize = -1;
        DsnRet ret;
        String envId;
        boolean smtpUtf8;
    }

    private final SizeLimits sizes;
    private final MailQueue queue;

    MailParameters(SizeLimits sizes, MailQueue queue) {
        this.sizes = sizes;
        this.queue = queue;
    }

    @Override
    public String[] getMailParamNames() {
        return new String[] {"SIZE", "RET", "ENVID", "BODY", Smtputf8.KEYWORD};
    }

    @Override
    public HookResult doMailParameter(SMTPSession session, String name, String value) {
        Values v = of(session);
        switch (name) {
            case "SIZE":
                return size(v, value);
            case "RET":
                v.ret = DsnRet.parse(value).orElse(null);
                return v.ret == null ? Replies.hookResult(Replies.RET_SYNTAX) : HookResult.DECLINED;
            case "ENVID":
                if (value.isEmpty() || value.length() > 100 || !Xtext.isValid(value)) {
                    return Replies.hookResult(Replies.ENVID_SYNTAX);
                }
                v.envId = value;
                return HookResult.DECLINED;
            case "BODY":
                String body = value.toUpperCase(Locale.ROOT);
                return body.equals("7BIT") || body.equals("8BITMIME")
                        ? HookResult.DECLINED : Replies.hookResult(Replies.BODY_SYNTAX);
            case Smtputf8.KEYWORD:
                v.smtpUtf8 = value == null || value.isEmpty();
                return v.smtpUtf8 ? HookResult.DECLINED : Replies.hookResult(Replies.SMTPUTF8_SYNTAX);
            default:
                return HookResult.DECLINED;
        }
    }

    private HookResult size(Values v, String value) {
        if (value.isEmpty() || !value.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return Replies.hookResult(Replies.SIZE_SYNTAX);
        }
        if (value.length() > 18) {
            // more than 18 digits may not fit a long, and is beyond any configurable limit anyway
            return Replies.hookResult(Replies.SIZE_EXCEEDED);
        }
        long size = Long.parseLong(value);
        if (size > sizes.largest()) {
            return Replies.hookResult(Replies.SIZE_EXCEEDED);
        }
        v.declaredSize = size;
        return HookResult.DECLINED;
    }

    /** The current MAIL's parameters, created when none was given. */
    static Values of(SMTPSession session) {
        return session.getAttachment(SessionKeys.MAIL_PARAMETERS, State.Transaction).orElseGet(() -> {
            Values created = new Values();
            session.setAttachment(SessionKeys.MAIL_PARAMETERS, created, State.Transaction);
            return created;
        });
    }

    @Override
    public HookResult doMail(SMTPSession session, MaybeSender sender) {
        long declared = session.getAttachment(SessionKeys.MAIL_PARAMETERS, State.Transaction)
                .map(v -> Math.max(v.declaredSize, 0)).orElse(0L);
        if (!queue.hasRoomFor(declared)) {
            return Replies.hookResult(Replies.INSUFFICIENT_STORAGE);
        }
        return HookResult.DECLINED;
    }

    @Override
    public List<String> getImplementedEsmtpFeatures(SMTPSession session) {
        return List.of("SIZE " + sizes.largest(), "DSN", Smtputf8.KEYWORD);
    }
}
