package org.backstopmx.forwarder.delivery;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The delivering side's one lock and its signals: how many claimed recipients are not yet recorded (bounded by
 * {@code maxInFlight}), whether someone asked the scheduler to look at the queue (new mail, a flush, a release), and
 * whether the forwarder is stopping. The {@link DeliveryScheduler} waits on it; the lanes count finished jobs out of
 * it; anyone may {@link #wake} it.
 *
 * <p>Thread-safe. Waits are bounded and not interruptible on purpose: nothing interrupts a thread of the forwarder.
 */
final class InFlight {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private int count;
    private boolean wakeRequested;
    private volatile boolean newWork;
    private volatile boolean stopping;

    /** Asks the scheduler to look at the queue now. Cheap; callable from any thread. */
    void wake() {
        newWork = true;
        lock.lock();
        try {
            wakeRequested = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Whether new work was announced since the last {@link #takeNewWork}. */
    boolean newWork() {
        return newWork;
    }

    /** Clears the new-work flag (a claim is about to look at the queue). */
    void takeNewWork() {
        newWork = false;
    }

    /** Raises the stop flag and wakes every waiter. */
    void stop() {
        lock.lock();
        try {
            stopping = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    boolean stopping() {
        return stopping;
    }

    /** {@code n} recipients were claimed. */
    void claimed(int n) {
        lock.lock();
        try {
            count += n;
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code n} claimed recipients were recorded, given back or abandoned to their lease. This is also a wake: a job
     * that finishes while the scheduler is busy claiming (not waiting) would otherwise go unseen, and the scheduler
     * would sleep its full turn with lanes free and mail due.
     */
    void done(int n) {
        lock.lock();
        try {
            count -= n;
            wakeRequested = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** A job handed out is done with. */
    void finished(Job job) {
        done(job.leases().size());
    }

    /**
     * Room for a claim under {@code max}; or -1 after waiting up to a second for jobs to finish, when the room is
     * less than worth a claim: while jobs run, claims are made a batch at a time rather than one per finished job.
     */
    int roomOrWait(int max, int batch) throws InterruptedException {
        lock.lock();
        try {
            int room = max - count;
            int worthIt = count == 0 ? 1 : Math.min(batch, Math.max(1, max / 4));
            if (room < worthIt) {
                changed.await(1, TimeUnit.SECONDS);
                return -1;
            }
            return room;
        } finally {
            lock.unlock();
        }
    }

    /**
     * True when nothing is in flight and no wake is pending; otherwise takes the wake and waits up to a second while
     * something is in flight.
     */
    boolean settledOrWait() throws InterruptedException {
        lock.lock();
        try {
            if (count == 0 && !wakeRequested) {
                return true;
            }
            wakeRequested = false;
            if (count > 0) {
                changed.await(1, TimeUnit.SECONDS);
            }
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** Sleeps up to {@code millis} unless a wake is pending or comes; takes the wake. */
    void sleep(long millis) throws InterruptedException {
        lock.lock();
        try {
            if (!wakeRequested && millis > 0) {
                changed.await(millis, TimeUnit.MILLISECONDS);
            }
            wakeRequested = false;
        } finally {
            lock.unlock();
        }
    }

    /** Waits {@code pause}, or until {@link #stop}; new mail does not cut it short. */
    void pause(Duration pause) {
        lock.lock();
        try {
            long nanos = pause.toNanos();
            while (nanos > 0 && !stopping) {
                nanos = changed.awaitNanos(nanos);
            }
        } catch (InterruptedException e) {
            // nothing interrupts the scheduler on purpose; the pause is over
        } finally {
            lock.unlock();
        }
    }
}
