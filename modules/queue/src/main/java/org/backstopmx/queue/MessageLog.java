package org.backstopmx.queue;

import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.Lease;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.RetryPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One log line per message event, keyed by queue id, in the shape mail admins know from Postfix
 * ({@code 0190F3A2B1C00001: received from=<a@example.net> size=4242 nrcpt=2 ...}). Its own logger, so the events can
 * be routed or silenced apart from diagnostics.
 */
final class MessageLog {
    private static final Logger LOG = LoggerFactory.getLogger(MessageLog.class);

    private MessageLog() {
    }

    static void received(Envelope e, long size) {
        if (LOG.isInfoEnabled()) {
            LOG.info("{}: received from=<{}> size={} nrcpt={} client={} helo={}", e.id(), clean(e.sender()), size,
                    e.recipients().size(), clean(e.clientAddress()), clean(e.clientHelo()));
        }
    }

    /** One recipient's attempt: {@code delivered}, {@code deferred}, {@code failed} or {@code expired}. */
    static void outcome(Lease lease, DeliveryOutcome outcome, RetryPolicy.Decision decision) {
        if (LOG.isInfoEnabled()) {
            LOG.info("{}: {} to=<{}> relay={} stage={} attempts={} next={} reply={}", lease.queueId(),
                    decision.next().name().toLowerCase(java.util.Locale.ROOT), clean(lease.address()),
                    clean(outcome.host()), outcome.stage(), lease.attempts() + 1,
                    decision.nextAttemptAt() == null ? "-" : decision.nextAttemptAt(), clean(outcome.describe()));
        }
    }

    static void removed(QueueId id, long size, int recipients) {
        LOG.info("{}: removed size={} nrcpt={}", id, size, recipients);
    }

    /** Client-supplied text goes into the log: no control characters, so one event stays one line. */
    private static String clean(String text) {
        if (text == null) {
            return "";
        }
        StringBuilder b = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                if (b == null) {
                    b = new StringBuilder(text.substring(0, i));
                }
                b.append('?');
            } else if (b != null) {
                b.append(c);
            }
        }
        return b == null ? text : b.toString();
    }
}
