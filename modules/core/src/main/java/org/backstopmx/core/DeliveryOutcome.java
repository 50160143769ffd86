package org.backstopmx.core;

import java.util.Objects;

/**
 * What one delivery attempt to one recipient came to, as a value. The forwarder's failure policy is the one place
 * that turns replies, socket errors and DNS answers into one of these; the queue only records them, and
 * {@link RetryPolicy} maps them to the recipient's next state.
 *
 * <p>Every variant carries the remote reply ({@code null} when there was none, e.g. connection refused or a DNS
 * failure), the host that was tried ({@code null} when none was reached, e.g. no route), and the stage of the SMTP
 * dialogue where it was decided.
 */
public sealed interface DeliveryOutcome {

    /** The remote reply that decided the outcome, or null when there was none. */
    SmtpReply reply();

    /** The host tried ({@code name} or {@code name[address]}), or null when none was. */
    String host();

    /** Where in the attempt the outcome was decided. */
    SmtpStage stage();

    /**
     * What happened when there was no reply that says it (connection refused, timeout, destination down, no route),
     * or null: one line for the log, the queue's last reply and a DSN's diagnostic.
     */
    String detail();

    /** The recipient was accepted by the next hop: it is {@link RecipientState#DELIVERED}. */
    record Delivered(SmtpReply reply, String host, SmtpStage stage, String detail) implements DeliveryOutcome {
        public Delivered {
            Objects.requireNonNull(stage, "stage");
        }

        public Delivered(SmtpReply reply, String host, SmtpStage stage) {
            this(reply, host, stage, null);
        }
    }

    /** Try again later (4xx, connection failure, no route yet). */
    record Transient(SmtpReply reply, String host, SmtpStage stage, String detail) implements DeliveryOutcome {
        public Transient {
            Objects.requireNonNull(stage, "stage");
        }

        public Transient(SmtpReply reply, String host, SmtpStage stage) {
            this(reply, host, stage, null);
        }
    }

    /** Never try again (5xx, null MX for a bounce destination): the recipient fails and its sender gets a DSN. */
    record Permanent(SmtpReply reply, String host, SmtpStage stage, String detail) implements DeliveryOutcome {
        public Permanent {
            Objects.requireNonNull(stage, "stage");
        }

        public Permanent(SmtpReply reply, String host, SmtpStage stage) {
            this(reply, host, stage, null);
        }
    }

    /** The name stored in the attempt history: {@code DELIVERED}, {@code TRANSIENT} or {@code PERMANENT}. */
    default String kind() {
        if (this instanceof Delivered) {
            return "DELIVERED";
        }
        return this instanceof Transient ? "TRANSIENT" : "PERMANENT";
    }

    /** One line for logs and the recipient's last reply: the reply, or the stage when there was no reply. */
    default String describe() {
        if (reply() != null) {
            return reply().toString();
        }
        return (detail() != null ? detail() : "no reply") + " at " + stage();
    }
}
