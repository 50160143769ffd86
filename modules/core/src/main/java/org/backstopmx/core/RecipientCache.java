package org.backstopmx.core;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What Backstop has learned about the recipients of its callout domains: the primary's answers to callouts and to
 * deliveries, and the admin's imports. Durable (kept in the queue's database, so it survives restarts and is warm when
 * the primary goes down). Addresses are compared in lower case. Implemented by the queue, used by the forwarder and
 * the admin commands.
 *
 * <p>Guarantees: every method may throw {@link QueueException} when the database cannot be used; callers at RCPT
 * time treat that as "not known".
 */
public interface RecipientCache {

    /** How an entry was learned. */
    enum Source {
        /** A callout at RCPT time. */
        CALLOUT,
        /** A delivery: the primary accepted or refused the address at RCPT. */
        DELIVERY,
        /** {@code backstop recipients import}. */
        IMPORT
    }

    /**
     * One address.
     *
     * @param address   lower case
     * @param valid     whether the primary takes it
     * @param reply     for an invalid one, the primary's reply text; otherwise null
     * @param learnedAt when it was last learned
     * @param expiresAt when it stops being believed
     * @param source    how it was learned
     */
    record Entry(String address, boolean valid, String reply, Instant learnedAt, Instant expiresAt, Source source) {
        public Entry {
            Objects.requireNonNull(address, "address");
            Objects.requireNonNull(learnedAt, "learnedAt");
            Objects.requireNonNull(expiresAt, "expiresAt");
            Objects.requireNonNull(source, "source");
        }

        public String domain() {
            return address.substring(address.lastIndexOf('@') + 1);
        }
    }

    /** The entry for {@code address} that has not expired at {@code now}, if any. */
    Optional<Entry> lookup(String address, Instant now) throws QueueException;

    /** Records (or replaces) the entry for its address. */
    void put(Entry entry) throws QueueException;

    /** Records many entries in one transaction (an import); returns how many. */
    int putAll(List<Entry> entries) throws QueueException;

    /** Forgets {@code address}; false when it was not known. */
    boolean forget(String address) throws QueueException;

    /** Entries not expired at {@code now}, by address, at most {@code limit}; {@code domain} null for all. */
    List<Entry> list(String domain, Instant now, int limit) throws QueueException;

    /** Entries not expired at {@code now}, counted by domain. Also removes the expired ones. */
    Map<String, Long> sizeByDomain(Instant now) throws QueueException;
}
