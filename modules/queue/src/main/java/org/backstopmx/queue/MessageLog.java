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
            LOG.info("{}: received from=<{}> size={} nrcpt={} client={} helo={}{}", e.id(), clean(e.sender()), size,
                    e.recipients().size(), clean(e.clientAddress()), clean(e.clientHelo()),
                    e.spf() == null ? "" : " spf=" + e.spf().keyword());
        }
    }

    /** Re-inserted at startup from its spool file, which the database did not have. */
    static void restored(Envelope e) {
        LOG.info("{}: restored from its spool file from=<{}> size={} nrcpt={} client={}", e.id(), clean(e.sender()),
                e.size(), e.recipients().size(), clean(e.clientAddress()));
    }

    /**
     * One recipient's attempt, in the shape of Postfix's delivery lines: {@code to=<..>, relay=.., delay=.., attempts=..,
     * status=sent|deferred|bounced|expired|held (reply)}, and {@code next=} for a deferral. {@code delay} is seconds since
     * the message was received.
     */
    static void outcome(Lease lease, DeliveryOutcome outcome, RetryPolicy.Decision decision, java.time.Instant now) {
        if (LOG.isInfoEnabled()) {
            String status = switch (decision.next()) {
                case DELIVERED -> "sent";
                case FAILED -> "bounced";
                case EXPIRED -> "expired";
                case HELD -> "held"; // queue.at-expiry: hold
                default -> "deferred";
            };
            double delay = java.time.Duration.between(lease.firstQueuedAt(), now).toMillis() / 1000.0;
            LOG.info("{}: to=<{}>, relay={}, delay={}, attempts={}, stage={}, status={} ({}){}", lease.queueId(),
                    clean(lease.address()), outcome.host() == null ? "none" : clean(outcome.host()),
                    String.format(java.util.Locale.ROOT, "%.1f", delay), lease.attempts() + 1, outcome.stage(), status,
                    clean(outcome.describe()),
                    decision.nextAttemptAt() == null ? "" : ", next=" + decision.nextAttemptAt());
        }
    }

    /** {@code queue hold}, {@code queue release} and {@code queue delete}: one line each, like the delivery lines. */
    static void admin(QueueId id, String action, int recipients) {
        LOG.info("{}: {} by the administrator nrcpt={}", id, action, recipients);
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
