package org.backstopmx.smtpin;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.backstopmx.core.Greylist;
import org.backstopmx.core.QueueException;

/**
 * The greylist in a map, for the SMTP server's tests (the queue's own tests hold its database to the same contract);
 * {@link #failing} makes every call fail as a database that cannot be used.
 */
final class MemoryGreylist implements Greylist {
    final Map<Triplet, Entry> entries = new ConcurrentHashMap<>();
    volatile boolean failing;

    @Override
    public Optional<Entry> lookup(Triplet triplet, Instant now) throws QueueException {
        fail();
        return Optional.ofNullable(entries.get(triplet)).filter(e -> e.expiresAt().isAfter(now));
    }

    @Override
    public void put(Entry entry) throws QueueException {
        fail();
        entries.put(entry.triplet(), entry);
    }

    @Override
    public int prune(Instant now) throws QueueException {
        fail();
        int before = entries.size();
        entries.values().removeIf(e -> !e.expiresAt().isAfter(now));
        return before - entries.size();
    }

    private void fail() throws QueueException {
        if (failing) {
            throw new QueueException(QueueException.Kind.STORAGE_ERROR, "greylist look-up: the database is closed");
        }
    }
}
