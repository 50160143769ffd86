package org.backstopmx.queue;

import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.backstopmx.core.QueueException;

/**
 * Open or closed, and the operations in flight: {@link #close} waits for them, so a commit that has started finishes
 * (durably, with its 250) before the syncer and the database go away, and nothing new starts once closing began.
 */
final class Lifecycle {
    private final ReentrantReadWriteLock inFlight = new ReentrantReadWriteLock();
    private volatile boolean closed;

    /** Enters an operation; pair with {@link #exit()}. */
    void enter(String what) throws QueueException {
        if (!tryEnter()) {
            throw StorageFailure.unavailable(what);
        }
    }

    boolean tryEnter() {
        // tryLock() barges past a waiting close(); the flag, checked again inside, turns such late comers away.
        if (closed || !inFlight.readLock().tryLock()) {
            return false;
        }
        if (closed) {
            inFlight.readLock().unlock();
            return false;
        }
        return true;
    }

    void exit() {
        inFlight.readLock().unlock();
    }

    boolean isClosed() {
        return closed;
    }

    /** Marks the queue closed and waits for every operation in flight; false if it was closed already. */
    boolean close() {
        if (closed) {
            return false;
        }
        synchronized (this) {
            if (closed) {
                return false;
            }
            closed = true;
        }
        inFlight.writeLock().lock();
        inFlight.writeLock().unlock();
        return true;
    }

    /**
     * Runs {@code work} on {@code db} between {@link #enter} and {@link #exit}, as one transaction or as one read
     * (the recipient cache's and the greylist's calls); a database failure is a {@code STORAGE_ERROR} naming
     * {@code what}.
     */
    <T> T call(QueueDatabase db, String what, QueueDatabase.SqlWork<T> work, boolean transaction) throws QueueException {
        enter(what);
        try {
            return transaction ? db.transaction(work) : db.read(work);
        } catch (java.sql.SQLException e) {
            throw new QueueException(QueueException.Kind.STORAGE_ERROR, what + ": " + e.getMessage(), e);
        } finally {
            exit();
        }
    }
}
