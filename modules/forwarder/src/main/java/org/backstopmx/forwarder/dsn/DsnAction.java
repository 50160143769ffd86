package org.backstopmx.forwarder.dsn;

/**
 * What a delivery status notification reports about one recipient (RFC 3464 §2.3.3). Only the two a backup MX ever
 * sends: it does not report {@code delivered}, {@code relayed} or {@code expanded}, since a successful hand-off to the
 * primary is not final delivery and the primary reports those itself.
 */
public enum DsnAction {
    /** The message could not be delivered and will not be retried. */
    FAILED("failed", "FAILURE"),
    /** The message has not been delivered yet and is still being retried. */
    DELAYED("delayed", "DELAY");

    private final String fieldValue;
    private final String notifyKeyword;

    DsnAction(String fieldValue, String notifyKeyword) {
        this.fieldValue = fieldValue;
        this.notifyKeyword = notifyKeyword;
    }

    /** The value of the {@code Action:} field: {@code failed} or {@code delayed}. */
    public String fieldValue() {
        return fieldValue;
    }

    /** The RFC 3461 §4.1 {@code NOTIFY} keyword that asks for this action: {@code FAILURE} or {@code DELAY}. */
    public String notifyKeyword() {
        return notifyKeyword;
    }
}
