package org.backstopmx.forwarder.delivery;

import java.time.Instant;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.Lease;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.RetryPolicy;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.forwarder.FailurePolicy;
import org.backstopmx.forwarder.dsn.DsnAction;
import org.backstopmx.forwarder.dsn.DsnRecipient;

/** Turns an attempt's outcome into what a DSN says about the recipient (RFC 3464 §2.3). */
final class DsnReport {
    private DsnReport() {
    }

    static DsnRecipient recipient(Lease lease, DeliveryOutcome outcome, RetryPolicy.Decision decision,
            DsnAction action, Instant now, Instant willRetryUntil) {
        SmtpReply reply = outcome.reply();
        boolean remote = outcome.host() != null && reply != null;
        String status = FailurePolicy.dsnStatus(outcome);
        String diagnostic = outcome.describe();
        if (decision.next() == RecipientState.EXPIRED) {
            // like Postfix: the last temporary status when there is one, else "delivery time expired"
            status = FailurePolicy.expiredStatus(outcome);
            diagnostic = "delivery time expired: the message was in the queue too long; the last attempt: "
                    + outcome.describe();
        } else if (action == DsnAction.DELAYED) {
            diagnostic = "still trying: " + outcome.describe();
        }
        return new DsnRecipient(lease.address(), lease.orcpt(), action, status, remote ? reply : null,
                hostName(outcome.host()), diagnostic, now, willRetryUntil);
    }

    /** {@code mx.example.org[192.0.2.1]} → {@code mx.example.org}. */
    static String hostName(String host) {
        if (host == null) {
            return null;
        }
        int bracket = host.indexOf('[');
        return bracket > 0 ? host.substring(0, bracket) : host;
    }
}
