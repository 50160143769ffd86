package org.backstopmx.core;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * What the greylist remembers (RFC 6647): the triplets (client network, envelope sender, recipient) it has seen, when
 * each was first tried and when a retry of it last passed. Durable (kept in the queue's database, so a restart does
 * not make every sender wait again). Implemented by the queue, used by the SMTP server at RCPT, which decides what
 * an entry means; this only stores them.
 *
 * <p>Guarantees: every method may throw {@link QueueException} when the database cannot be used; the caller at RCPT
 * then lets the recipient pass (greylisting never costs a message). Thread-safe.
 */
public interface Greylist {

    /**
     * What a try is known by.
     *
     * @param network   the client's /24 ({@code 192.0.2.0/24}) or /64 ({@code 2001:db8:1:2::/64}): a sender's
     *                  retries may come from another address of its pool
     * @param sender    the envelope sender in lower case, empty for the null sender
     * @param recipient the recipient in lower case
     */
    record Triplet(String network, String sender, String recipient) {
        public Triplet {
            Objects.requireNonNull(network, "network");
            Objects.requireNonNull(sender, "sender");
            Objects.requireNonNull(recipient, "recipient");
        }
    }

    /**
     * One triplet.
     *
     * @param firstSeen when it was first tried (since it was last forgotten)
     * @param passedAt  when a retry of it last passed; null while it has not
     * @param expiresAt when it is forgotten
     */
    record Entry(Triplet triplet, Instant firstSeen, Instant passedAt, Instant expiresAt) {
        public Entry {
            Objects.requireNonNull(triplet, "triplet");
            Objects.requireNonNull(firstSeen, "firstSeen");
            Objects.requireNonNull(expiresAt, "expiresAt");
        }
    }

    /** The entry of {@code triplet} that has not expired at {@code now}, if any. */
    Optional<Entry> lookup(Triplet triplet, Instant now) throws QueueException;

    /** Records (or replaces) the entry of its triplet. */
    void put(Entry entry) throws QueueException;

    /** Forgets the entries expired at {@code now}; returns how many. */
    int prune(Instant now) throws QueueException;
}
