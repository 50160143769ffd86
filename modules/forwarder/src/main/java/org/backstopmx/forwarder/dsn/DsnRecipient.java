package org.backstopmx.forwarder.dsn;

import java.time.Instant;
import java.util.Objects;
import java.util.regex.Pattern;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.forwarder.FailurePolicy;

/**
 * What one DSN says about one recipient: the per-recipient fields of RFC 3464 §2.3 and the line of the human-readable
 * part.
 *
 * <p>The remote reply and our own diagnostic play different roles. When there is a remote reply it is the
 * {@code Diagnostic-Code: smtp; <reply>}, as RFC 3464 §2.3.6 wants: the receiving admin searches for the primary's
 * exact words. Without one (connection refused, no route, expired while the primary was down) the diagnostic becomes
 * {@code Diagnostic-Code: X-Backstop; <diagnostic>}, like Postfix's {@code X-Postfix}, so the reason still reaches a
 * program reading the report. In the human-readable part the diagnostic is shown when given (it is written for
 * people and says more, such as "delivery time expired"), followed by the remote reply when the diagnostic does not
 * already quote it.
 *
 * @param address        the final recipient ({@code local@domain}); may contain UTF-8 (RFC 6531)
 * @param orcpt          the {@code ORCPT} as received ({@code addr-type;xtext}, RFC 3461 §4.2), or null
 * @param action         failed or delayed
 * @param status         the RFC 3463 status {@code class.subject.detail}, class 4 or 5; null derives it: the remote
 *                       reply's enhanced code, else its class with {@code .0.0}, else {@code 5.0.0} for failed and
 *                       {@code 4.0.0} for delayed. Callers that know better give it (4.4.7 expired, 4.4.1 no answer).
 *                       The pairing with the action is not checked: a recipient that expired is {@code failed} with
 *                       its last temporary status, as Postfix reports it
 * @param remoteReply    what the remote MTA answered, or null when it never answered
 * @param remoteMta      the remote MTA's host name ({@code Remote-MTA: dns; <host>}), or null
 * @param diagnostic     our own one-line explanation, or null
 * @param lastAttemptAt  when delivery was last tried ({@code Last-Attempt-Date}), or null
 * @param willRetryUntil for a delayed recipient, when we give up ({@code Will-Retry-Until}), or null; always null for a
 *                       failed one
 */
public record DsnRecipient(
        String address,
        String orcpt,
        DsnAction action,
        String status,
        SmtpReply remoteReply,
        String remoteMta,
        String diagnostic,
        Instant lastAttemptAt,
        Instant willRetryUntil) {
    private static final Pattern STATUS = Pattern.compile("[45]\\.\\d{1,3}\\.\\d{1,3}");

    public DsnRecipient {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(action, "action");
        if (address.isEmpty()) {
            throw new IllegalArgumentException("empty recipient address");
        }
        if (status == null) {
            status = derivedStatus(remoteReply, action);
        }
        if (!STATUS.matcher(status).matches()) {
            throw new IllegalArgumentException("not a failure or delay status (RFC 3463 4.x.x or 5.x.x): " + status);
        }
        if (action == DsnAction.FAILED && willRetryUntil != null) {
            throw new IllegalArgumentException("a failed recipient is not retried: " + address);
        }
    }

    /** The status a reply (or its absence) implies for {@code action}. */
    static String derivedStatus(SmtpReply reply, DsnAction action) {
        return FailurePolicy.replyStatus(reply, action == DsnAction.FAILED);
    }
}
