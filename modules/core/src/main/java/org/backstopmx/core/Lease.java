package org.backstopmx.core;

import java.time.Instant;
import java.util.Objects;

/**
 * One recipient claimed for a delivery attempt by {@link MailQueue#leaseDue}. Hand it back, unchanged, to
 * {@link MailQueue#recordOutcome} with what the attempt came to.
 *
 * @param recipientId   the recipient's row id in the queue
 * @param queueId       the message it belongs to (body: {@link MailQueue#openBody})
 * @param address       the recipient address
 * @param domain        its domain, lower case: the key for routes and per-destination backoff
 * @param dsnNotify     the DSN {@code NOTIFY} value (RFC 3461 §4.1), or null
 * @param orcpt         the DSN {@code ORCPT} value (RFC 3461 §4.2), or null
 * @param attempts      attempts recorded before this one
 * @param state         the state when leased: {@link RecipientState#QUEUED} or {@link RecipientState#DEFERRED}
 * @param firstQueuedAt when the message was received: the start of its queue lifetime
 * @param lastAttemptAt when the last attempt was recorded, or null before the first (for the delay warning: a
 *                      recipient crosses the warning time between two attempts exactly once)
 * @param leaseUntil    when the lease ends (as claimed or last renewed); after it the recipient is due again and may
 *                      be leased by someone else
 * @param owner         the token that identifies this lease in the queue: one per claim, never reused, kept by a
 *                      renewal ({@link MailQueue#renewLeases})
 */
public record Lease(
        long recipientId,
        QueueId queueId,
        String address,
        String domain,
        String dsnNotify,
        String orcpt,
        int attempts,
        RecipientState state,
        Instant firstQueuedAt,
        Instant lastAttemptAt,
        Instant leaseUntil,
        String owner) {

    public Lease {
        Objects.requireNonNull(queueId, "queueId");
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(domain, "domain");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(firstQueuedAt, "firstQueuedAt");
        Objects.requireNonNull(leaseUntil, "leaseUntil");
        Objects.requireNonNull(owner, "owner");
    }

    /** The same lease, renewed until {@code until}. */
    public Lease renewedUntil(Instant until) {
        return new Lease(recipientId, queueId, address, domain, dsnNotify, orcpt, attempts, state, firstQueuedAt,
                lastAttemptAt, until, owner);
    }
}
