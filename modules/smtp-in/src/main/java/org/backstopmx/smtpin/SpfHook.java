package org.backstopmx.smtpin;

import java.net.InetAddress;
import org.apache.james.core.MaybeSender;
import org.apache.james.protocols.api.ProtocolSession.AttachmentKey;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.apache.james.protocols.smtp.hook.MailHook;
import org.backstopmx.core.Metrics.ScreenCheck;
import org.backstopmx.core.Metrics.ScreenResult;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.core.SpfResult;
import org.backstopmx.core.config.SpfPolicy;
import org.backstopmx.smtpin.spf.SpfCheck;
import org.backstopmx.smtpin.spf.SpfVerdict;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MAIL FROM: the SPF check of the sender ({@code screen.spf}), after James's and our own syntax checks. The verdict
 * is kept in the transaction ({@link #VERDICT}) for {@link Reception}, which writes its headers and puts its result
 * in the envelope. With {@code enforce}, {@code fail} is refused {@code 550 5.7.23} and {@code temperror}
 * {@code 451 4.7.24} (RFC 7372 §3.2); every other result, and every result with {@code tag}, lets the MAIL go on.
 * Clients in {@code screen.trusted} are not checked. Each result is counted in
 * {@code backstop.screen.decisions{check=spf}}.
 *
 * <p>The check blocks this worker thread for as long as DNS takes, {@code dns.timeout} a query and at most
 * {@link SpfCheck}'s limit in all, as the callout does at RCPT.
 */
final class SpfHook implements MailHook {
    private static final Logger LOG = LoggerFactory.getLogger(SpfHook.class);

    /** What the SPF check of this transaction's MAIL found; absent when none was made. */
    static final AttachmentKey<SpfVerdict> VERDICT = AttachmentKey.of("backstop.spf", SpfVerdict.class);

    private final SpfCheck check;
    private final SpfPolicy policy;
    private final ClientTrust trust;
    private final SmtpMetrics metrics;

    SpfHook(SpfCheck check, SpfPolicy policy, ClientTrust trust, SmtpMetrics metrics) {
        this.check = check;
        this.policy = policy;
        this.trust = trust;
        this.metrics = metrics;
    }

    @Override
    public HookResult doMail(SMTPSession session, MaybeSender sender) {
        session.removeAttachment(VERDICT, State.Transaction);
        InetAddress client = session.getRemoteAddress().getAddress();
        if (trust.trusts(client)) {
            return HookResult.DECLINED;
        }
        String helo = session.getAttachment(SMTPSession.CURRENT_HELO_NAME, State.Connection).orElse("");
        SpfVerdict verdict = check.check(client, sender.asString(""), helo);
        metrics.screened(ScreenCheck.SPF, ScreenResult.of(verdict.result()));
        SmtpReply refusal = policy != SpfPolicy.ENFORCE ? null
                : verdict.result() == SpfResult.FAIL ? Replies.SPF_FAIL
                : verdict.result() == SpfResult.TEMPERROR ? Replies.SPF_TEMPERROR : null;
        if (refusal != null) {
            refusal = refusal.withText(String.format(refusal.text(), verdict.domain(), client.getHostAddress()));
            LOG.info("reject: MAIL from [{}]: {}; from=<{}> helo=<{}> spf={} ({})", client.getHostAddress(), refusal,
                    sender.asString(""), helo, verdict.result().keyword(), verdict.reason());
            return Replies.hookResult(refusal);
        }
        session.setAttachment(VERDICT, verdict, State.Transaction);
        return HookResult.DECLINED;
    }
}
