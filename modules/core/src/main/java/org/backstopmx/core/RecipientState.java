package org.backstopmx.core;

import java.util.EnumSet;
import java.util.Set;

/**
 * The state of one recipient of a queued message, and the only authority on which transitions are legal.
 *
 * <pre>
 *              +--- attempt: 2xx -----------> DELIVERED
 *  QUEUED -----+--- attempt: 4xx / no route -> DEFERRED --(due)--> attempt again
 *    ^         +--- attempt: 5xx -----------> FAILED   ---> a DSN is queued to the sender
 *    |         +--- older than lifetime ----> EXPIRED  ---> a DSN is queued to the sender
 *  HELD &lt;-&gt; (admin hold / release)
 * </pre>
 *
 * The database stores {@link #name()}, never the ordinal.
 */
public enum RecipientState {
    QUEUED,
    DEFERRED,
    HELD,
    DELIVERED,
    FAILED,
    EXPIRED;

    /** Whether a message with a recipient in this state still has work to do (and keeps its body). */
    public boolean isPending() {
        return this == QUEUED || this == DEFERRED || this == HELD;
    }

    /**
     * Whether a recipient in this state is tried when its next attempt time comes (QUEUED, DEFERRED): the due states.
     * A HELD one waits for a release.
     */
    public boolean isScheduled() {
        return this == QUEUED || this == DEFERRED;
    }

    public boolean isFinal() {
        return !isPending();
    }

    /** Whether this state may move to {@code next}. */
    public boolean canMoveTo(RecipientState next) {
        return successors().contains(next);
    }

    private Set<RecipientState> successors() {
        switch (this) {
            case QUEUED:
            case DEFERRED:
                return EnumSet.of(DEFERRED, HELD, DELIVERED, FAILED, EXPIRED);
            case HELD:
                return EnumSet.of(QUEUED, FAILED, EXPIRED);
            default:
                return EnumSet.noneOf(RecipientState.class);
        }
    }
}
