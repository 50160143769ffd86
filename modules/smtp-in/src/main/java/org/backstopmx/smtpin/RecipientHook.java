package org.backstopmx.smtpin;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.james.core.MailAddress;
import org.apache.james.core.MaybeSender;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.apache.james.protocols.smtp.hook.RcptHook;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.MailExtension;
import org.backstopmx.core.PrimaryCapabilities;
import org.backstopmx.core.RecipientVerifier;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.core.Standby;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * RCPT TO: the recipient limit (452 4.5.3, not counted as an error up to {@code smtp.recipient-overshoot-limit}), relay control (550 5.7.1), recipient validation (550 5.1.1; by callout also 450 4.1.1),
 * standby mode (450 4.7.1 naming the primary while a {@code when-primary-down} domain's primary is up),
 * greylisting last ({@link Greylisting}, 450 4.7.1),
 * the capability rule (553 5.6.7 for a UTF-8 envelope when the domain's primary is known to lack SMTPUTF8, 552 5.3.4
 * for a declared {@code SIZE=} above the limit its primary advertised) and the
 * DSN parameters NOTIFY and ORCPT (RFC 3461 §4.1, §4.2). It is the only RCPT hook in the chain and it always answers
 * OK or a refusal, never DECLINED: James accepts a recipient that every hook declined.
 */
final class RecipientHook implements RcptHook {
    private static final Logger LOG = LoggerFactory.getLogger(RecipientHook.class);
    private static final Set<String> NOTIFY_VALUES = Set.of("SUCCESS", "FAILURE", "DELAY");

    private volatile RelayPolicy policy;
    private final int maxRecipients;
    private final int overshootLimit;
    private final PrimaryCapabilities primaries;
    private final SizeLimits sizes;
    private final Standby standby;
    private final RecipientVerifier verifier;
    /** Null when {@code screen.greylist} is off. */
    private final Greylisting greylisting;

    /**
     * @param overshootLimit RCPTs over {@code maxRecipients} in one transaction whose 452 does not count towards
     *                       {@code smtp.max-errors}
     * @param verifier       asks the primary (or its cache) about recipients at callout domains; it blocks this worker
     *                       thread for at most {@code callout.timeout}
     * @param greylisting    defers the first try of a recipient that would be accepted; null when off
     */
    RecipientHook(RelayPolicy policy, int maxRecipients, int overshootLimit, PrimaryCapabilities primaries,
            long maxMessageSize, Standby standby, RecipientVerifier verifier, Greylisting greylisting) {
        this.verifier = verifier;
        this.greylisting = greylisting;
        this.policy = policy;
        this.maxRecipients = maxRecipients;
        this.overshootLimit = overshootLimit;
        this.primaries = primaries;
        this.standby = standby;
        this.sizes = new SizeLimits(maxMessageSize, primaries, () -> this.policy.directory().domains());
    }

    /** The size limits under the policy in force, for MAIL's {@code SIZE=} and EHLO. */
    SizeLimits sizes() {
        return sizes;
    }

    /** Swaps in a new policy (served domains and recipient lists reloaded); sessions in progress keep going. */
    void replacePolicy(RelayPolicy newPolicy) {
        this.policy = newPolicy;
    }

    /** Where {@code RCPT TO:<Postmaster>} goes under the policy in force, or null. */
    String postmaster() {
        return policy.postmaster();
    }

    @Override
    public Set<String> supportedParameters() {
        return Set.of("NOTIFY", "ORCPT");
    }

    @Override
    public HookResult doRcpt(SMTPSession session, MaybeSender sender, MailAddress rcpt, Map<String, String> parameters) {
        List<EnvelopeRecipient> accepted = session.getAttachment(SessionKeys.RECIPIENTS, State.Transaction)
                .orElseGet(ArrayList::new);
        if (accepted.size() >= maxRecipients) {
            return overshoot(session, sender, rcpt);
        }
        String local = Smtputf8.localPart(session, rcpt);
        String domain = rcpt.getDomain().asString();
        RecipientDirectory.Verdict verdict = policy.check(local, domain);
        switch (verdict) {
            case RELAY_DENIED:
                return refuse(session, sender, rcpt, Replies.RELAY_DENIED);
            case UNKNOWN_USER:
                return refuse(session, sender, rcpt, Replies.USER_UNKNOWN);
            default:
                break;
        }
        // after relay control and the recipient list, so a refusal for good is never turned into a 450
        Optional<String> primary = standby.standingBy(domain.toLowerCase(Locale.ROOT));
        if (primary.isPresent()) {
            SmtpReply standing = Replies.STANDBY;
            return refuse(session, sender, rcpt, standing.withText(String.format(standing.text(), domain,
                    primary.get())));
        }
        if ((Utf8Address.hasNonAscii(local) || Utf8Address.hasNonAscii(Smtputf8.sender(session, sender)))
                && primaries.knownToLack(domain.toLowerCase(Locale.ROOT), MailExtension.SMTPUTF8)) {
            SmtpReply lacks = Replies.PRIMARY_LACKS_SMTPUTF8;
            return refuse(session, sender, rcpt, lacks.withText(String.format(lacks.text(), domain)));
        }
        long declared = session.getAttachment(SessionKeys.MAIL_PARAMETERS, State.Transaction)
                .map(v -> v.declaredSize).orElse(-1L);
        if (declared > sizes.forDomain(domain.toLowerCase(Locale.ROOT))) {
            SmtpReply tooBig = Replies.SIZE_EXCEEDS_PRIMARY;
            return refuse(session, sender, rcpt, tooBig.withText(String.format(tooBig.text(), domain)));
        }
        String notify = parameters.get("NOTIFY");
        if (notify != null && !validNotify(notify)) {
            return Replies.hookResult(Replies.NOTIFY_SYNTAX);
        }
        String orcpt = parameters.get("ORCPT");
        if (orcpt != null && !validOrcpt(orcpt)) {
            return Replies.hookResult(Replies.ORCPT_SYNTAX);
        }
        String address = local + "@" + domain.toLowerCase(Locale.ROOT);
        boolean duplicate = accepted.stream().anyMatch(r -> r.address().equalsIgnoreCase(address));
        if (verdict == RecipientDirectory.Verdict.VERIFY && !duplicate) {
            SmtpReply refusal = verified(address, domain.toLowerCase(Locale.ROOT));
            if (refusal != null) {
                return refuse(session, sender, rcpt, refusal);
            }
        }
        if (!duplicate && greylisting != null) {
            // last: only a recipient that would be accepted is greylisted
            SmtpReply later = greylisting.check(session.getRemoteAddress().getAddress(),
                    DataCommand.state(session).allowListed, Smtputf8.sender(session, sender), address);
            if (later != null) {
                // not the client's error: every recipient of a new sender is deferred once
                DataCommand.state(session).nextErrorUncounted = true;
                return Replies.hookResult(later); // logged by the greylist
            }
        }
        if (!duplicate) {
            accepted.add(new EnvelopeRecipient(address, notify == null ? null : notify.toUpperCase(Locale.ROOT), orcpt));
            session.setAttachment(SessionKeys.RECIPIENTS, accepted, State.Transaction);
        }
        return HookResult.OK;
    }

    /**
     * What the primary (or the recipient cache) says of {@code address}: null to accept, else the refusal.
     * {@code 550 5.1.1} carries the primary's own text (one line, as it could have said it to the client itself).
     */
    private SmtpReply verified(String address, String domain) {
        RecipientVerifier.Verdict v = verifier.verify(address);
        switch (v.kind()) {
            case INVALID:
                String text = v.text() == null || v.text().isBlank() ? Replies.USER_UNKNOWN.text()
                        : v.text().replaceAll("[\\r\\n]+", " ").strip();
                return Replies.USER_UNKNOWN_AT_PRIMARY.withText(text);
            case UNVERIFIED:
                return Replies.RECIPIENT_UNVERIFIED.withText(String.format(Replies.RECIPIENT_UNVERIFIED.text(), domain));
            default:
                return null;
        }
    }

    /**
     * A recipient over the limit. A pipelining sender writes all its RCPTs before it reads a reply, so the extra ones
     * are a normal part of its transaction, not errors: it delivers to the accepted ones and sends the rest later
     * (RFC 5321 §4.5.3.1.10). As Postfix's {@code smtpd_recipient_overshoot_limit}: the first {@code overshootLimit}
     * of a transaction do not count towards {@code smtp.max-errors}; further ones do, so a client that only sends
     * RCPTs still meets the error limit.
     */
    private HookResult overshoot(SMTPSession session, MaybeSender sender, MailAddress rcpt) {
        int over = session.getAttachment(SessionKeys.OVERSHOOT, State.Transaction).orElse(0);
        session.setAttachment(SessionKeys.OVERSHOOT, over + 1, State.Transaction);
        if (over < overshootLimit) {
            DataCommand.state(session).nextErrorUncounted = true;
        }
        return refuse(session, sender, rcpt, Replies.TOO_MANY_RECIPIENTS);
    }

    private static HookResult refuse(SMTPSession session, MaybeSender sender, MailAddress rcpt, SmtpReply reply) {
        LOG.info("reject: RCPT from [{}]: {} <{}>; from=<{}> helo=<{}>",
                session.getRemoteAddress().getAddress().getHostAddress(), reply,
                Smtputf8.localPart(session, rcpt) + "@" + rcpt.getDomain().asString(),
                Smtputf8.sender(session, sender), session.getAttachment(SMTPSession.CURRENT_HELO_NAME, State.Connection).orElse(""));
        return Replies.hookResult(reply);
    }

    static boolean validNotify(String value) {
        String[] parts = value.toUpperCase(Locale.ROOT).split(",", -1);
        if (parts.length == 1 && parts[0].equals("NEVER")) {
            return true;
        }
        for (String p : parts) {
            if (!NOTIFY_VALUES.contains(p)) {
                return false;
            }
        }
        return parts.length == Set.of(parts).size();
    }

    static boolean validOrcpt(String value) {
        int semi = value.indexOf(';');
        if (semi <= 0 || semi == value.length() - 1) {
            return false;
        }
        String type = value.substring(0, semi);
        return type.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '-') && value.length() <= 500
                && Xtext.isValid(value.substring(semi + 1));
    }
}
