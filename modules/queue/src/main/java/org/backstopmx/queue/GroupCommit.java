package org.backstopmx.queue;

import java.io.SyncFailedException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.backstopmx.core.Liveness;
import org.backstopmx.core.QueueException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit: one syncer thread makes many messages durable with one database transaction and one fsync.
 *
 * <p>A writer hands the syncer a request (the rows to insert, and the spool directory that got its new body file)
 * and waits. The syncer takes every request waiting at that moment and, for the whole group:
 * <ol>
 * <li>fsyncs the spool directories that got new files, so no row can ever name a body file whose name is not on
 *     disk;</li>
 * <li>runs every request's database work in ONE transaction and commits it: H2 (WRITE_DELAY=0) writes one chunk for
 *     the group instead of one per message, which is most of H2's cost per message;</li>
 * <li>runs {@code CHECKPOINT SYNC}, an fsync of the database that starts after that commit;</li>
 * </ol>
 * and only then releases the requests: the property the 250 reply depends on. While one group is written the next
 * gathers, so under load the number of transactions and fsyncs per message falls.
 *
 * <p>If the group's transaction fails, each request's work is retried in a transaction of its own, so one bad
 * message fails alone. A failed fsync fails exactly the requests of its group, and is remembered until a later round
 * succeeds ({@link #lastFailure}): the queue takes no mail meanwhile.
 *
 * <p>While the database is taken offline for maintenance (a compaction rewrites it for seconds at a large queue),
 * commits of messages whose spool file is complete ({@link #awaitStored}) are answered without waiting for it: their
 * spool directory is fsynced as usual, and the spool file, sealed and fsynced before, already holds the whole message
 * (envelope and end marker) that startup recovery restores rows from. Their rows are written with the first round
 * after the database is back; a crash in between loses nothing (recovery re-inserts them, due at once). Every other
 * request waits for the database, as before.
 *
 * <p>Nothing ends the syncer but {@link #close()}: a round that fails in any way (an {@link Error} included) fails its
 * requests, is reported to {@link Liveness} (logged once per run of failures, with its cause), and the syncer pauses a
 * little and goes on. It beats at least every {@value #IDLE_BEAT_SECONDS} s while idle, so a syncer stuck in a round
 * for longer than {@link #BOUND} makes the process not live.
 */
final class GroupCommit implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GroupCommit.class);
    private static final long WAIT_SECONDS = 120;
    private static final Request STOP = new Request(null, null, null);
    /** How often the syncer looks whether maintenance has ended while it holds rows for the database. */
    private static final long MAINTENANCE_POLL_MILLIS = 20;
    static final long IDLE_BEAT_SECONDS = 10;
    /** The longest a round may take before the process is reported not live: writers give up after two minutes. */
    static final Duration BOUND = Duration.ofMinutes(5);

    private static final class Request {
        final Path newFileDirectory;
        final QueueDatabase.SqlWork<?> work;
        /** The message whose complete spool file holds what {@link #work} inserts; null for other work. */
        final String spooled;
        final CompletableFuture<Void> done = new CompletableFuture<>();
        Throwable workFailure;

        Request(Path newFileDirectory, QueueDatabase.SqlWork<?> work, String spooled) {
            this.newFileDirectory = newFileDirectory;
            this.work = work;
            this.spooled = spooled;
        }
    }

    private final QueueDatabase db;
    private final BlockingQueue<Request> pending = new LinkedBlockingQueue<>();
    private final Object admission = new Object();
    private boolean stopped; // guarded by admission: nothing is queued after STOP
    private final AtomicLong rounds = new AtomicLong();
    private final AtomicLong requests = new AtomicLong();
    private volatile Throwable lastFailure;
    private final Thread syncer;
    private final Liveness.Loop loop;
    /** Answered during maintenance, their rows not written yet; the syncer's own. */
    private final List<Request> parked = new ArrayList<>();
    /** Other work that came during maintenance and waits for its end; the syncer's own. */
    private final List<Request> held = new ArrayList<>();

    private GroupCommit(QueueDatabase db, Liveness.Loop loop) {
        this.db = db;
        this.loop = loop;
        // A daemon: a JVM that exits without closing the queue loses nothing that was acknowledged.
        this.syncer = new Thread(this::run, "queue-syncer");
        this.syncer.setDaemon(true);
    }

    /** Starts the syncer, beating in {@code liveness} as {@code queue-syncer}. */
    static GroupCommit start(QueueDatabase db, Liveness liveness) {
        GroupCommit g = new GroupCommit(db, liveness.register("queue-syncer", BOUND));
        g.syncer.start();
        return g;
    }

    /**
     * Returns once an fsync of the database that started after this call has finished, and, when
     * {@code newFileDirectory} is given, an fsync of that directory too.
     *
     * @throws SyncFailedException when that fsync failed (the cause says why) or did not happen within two minutes
     * @throws QueueException      UNAVAILABLE when the syncer has been stopped
     */
    void awaitDurable(Path newFileDirectory) throws SyncFailedException, QueueException {
        awaitDurable(newFileDirectory, null);
    }

    /**
     * Runs {@code work} in the next group's transaction and returns once it is committed and covered by an fsync of
     * the database (and of {@code newFileDirectory}, fsynced before the commit).
     *
     * @throws SyncFailedException when the work or the fsync failed (the cause says why), or nothing happened within
     *                             two minutes; the work's changes are then either rolled back or not durable
     * @throws QueueException      UNAVAILABLE when the syncer has been stopped
     */
    void awaitDurable(Path newFileDirectory, QueueDatabase.SqlWork<?> work) throws SyncFailedException, QueueException {
        await(new Request(newFileDirectory, work, null));
    }

    /**
     * As {@link #awaitDurable(Path, QueueDatabase.SqlWork)} for the rows of message {@code id}, whose spool file in
     * {@code newFileDirectory} is complete and fsynced; except that while the database is offline for maintenance it
     * returns once the directory is fsynced, and the rows are written when the database is back (see the class
     * description).
     */
    void awaitStored(Path newFileDirectory, String id, QueueDatabase.SqlWork<?> work)
            throws SyncFailedException, QueueException {
        await(new Request(java.util.Objects.requireNonNull(newFileDirectory, "newFileDirectory"), work,
                java.util.Objects.requireNonNull(id, "id")));
    }

    private void await(Request request) throws SyncFailedException, QueueException {
        synchronized (admission) {
            if (stopped) {
                throw StorageFailure.unavailable("group commit");
            }
            pending.add(request);
        }
        requests.incrementAndGet();
        try {
            request.done.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw syncFailed("fsync failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw syncFailed("no fsync finished within " + WAIT_SECONDS + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw syncFailed("interrupted while waiting for the fsync", e);
        }
    }

    /** Completed sync rounds: with many concurrent writers, far fewer than requests. */
    long rounds() {
        return rounds.get();
    }

    long requests() {
        return requests.get();
    }

    /** Why the last round failed, when no round has succeeded since; empty otherwise. */
    java.util.Optional<Throwable> lastFailure() {
        return java.util.Optional.ofNullable(lastFailure);
    }

    private void run() {
        List<Request> batch = new ArrayList<>();
        boolean stop = false;
        while (!stop) {
            loop.beat();
            try {
                boolean waiting = !parked.isEmpty() || !held.isEmpty();
                Request first = pending.poll(waiting ? MAINTENANCE_POLL_MILLIS : IDLE_BEAT_SECONDS * 1000,
                        TimeUnit.MILLISECONDS);
                if (first != null) {
                    batch.add(first);
                    pending.drainTo(batch);
                    stop = batch.remove(STOP);
                }
                if (!batch.isEmpty() || waiting) {
                    round(batch);
                }
            } catch (InterruptedException e) {
                // only close() stops the syncer, through STOP, so that no request is left waiting
            } catch (Throwable t) { // outside a round: nothing may be left waiting, and the syncer goes on
                for (Request r : batch) {
                    r.done.completeExceptionally(t);
                }
                pause(loop.failed("group commit", t));
            } finally {
                batch.clear();
            }
        }
        for (Request r : held) {
            r.done.completeExceptionally(StorageFailure.unavailable("group commit"));
        }
        for (Request r : parked) {
            LOG.warn("{}: accepted during database maintenance and the queue closed before its rows were written;"
                    + " startup recovery restores it from its spool file", r.spooled);
        }
        loop.stopped();
    }

    /**
     * During maintenance: answers the requests of complete spool files once their directories are fsynced, keeping
     * their rows for later, and holds the rest. Returns false when the database is not being maintained.
     */
    private boolean park(List<Request> batch) {
        if (!db.maintaining()) {
            return false;
        }
        List<Request> answerable = new ArrayList<>();
        for (Request r : batch) {
            (r.spooled != null ? answerable : held).add(r);
        }
        try {
            Set<Path> directories = new LinkedHashSet<>();
            answerable.forEach(r -> directories.add(r.newFileDirectory));
            for (Path dir : directories) {
                Spool.fsyncDirectory(dir);
            }
        } catch (Throwable t) {
            answerable.forEach(r -> r.done.completeExceptionally(t));
            pause(loop.failed("group commit: the spool fsync of " + answerable.size() + " commits", t));
            return true;
        }
        for (Request r : answerable) {
            parked.add(r);
            r.done.complete(null);
        }
        loop.succeeded();
        return true;
    }

    private void round(List<Request> arrived) {
        if (park(arrived)) {
            return;
        }
        // what maintenance kept back goes first: the parked rows, answered already, then the work that waited
        List<Request> batch = new ArrayList<>(parked);
        batch.addAll(held);
        batch.addAll(arrived);
        int answered = parked.size();
        held.clear();
        Throwable failure = null;
        try {
            Set<Path> directories = new LinkedHashSet<>();
            for (Request r : batch.subList(answered, batch.size())) {
                if (r.newFileDirectory != null) {
                    directories.add(r.newFileDirectory);
                }
            }
            for (Path dir : directories) {
                Spool.fsyncDirectory(dir);
            }
            writeRows(batch);
            db.sync();
            rounds.incrementAndGet();
            lastFailure = null;
        } catch (Throwable t) {
            failure = t;
            lastFailure = t;
        }
        if (failure == null) {
            for (Request r : parked) {
                if (r.workFailure != null) {
                    LOG.error("{}: accepted during database maintenance, but its rows could not be written; its spool"
                            + " file is kept and startup recovery restores it", r.spooled, r.workFailure);
                }
            }
            parked.clear(); // else kept for the next round
        }
        for (Request r : batch.subList(answered, batch.size())) {
            if (failure != null) {
                r.done.completeExceptionally(failure);
            } else if (r.workFailure != null) {
                r.done.completeExceptionally(r.workFailure);
            } else {
                r.done.complete(null);
            }
        }
        if (failure == null) {
            loop.succeeded();
        } else {
            // its writers have their answer; the next group waits a little, rather than hammer a failing disk
            pause(loop.failed("group commit: the fsync of " + batch.size() + " waiting commits", failure));
        }
    }

    /** Waits {@code pause}, or until {@link #close()}. */
    private void pause(Duration pause) {
        long until = System.nanoTime() + pause.toNanos();
        synchronized (admission) {
            long left;
            while (!stopped && (left = until - System.nanoTime()) > 0) {
                try {
                    TimeUnit.NANOSECONDS.timedWait(admission, left);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /** All the group's work in one transaction; if that fails, each request's work on its own. */
    private void writeRows(List<Request> batch) throws Exception {
        List<Request> withWork = new ArrayList<>();
        for (Request r : batch) {
            r.workFailure = null; // a parked request's rows may be tried again after a failed round
            if (r.work != null) {
                withWork.add(r);
            }
        }
        if (withWork.isEmpty()) {
            return;
        }
        try {
            db.transaction(c -> {
                for (Request r : withWork) {
                    r.work.run(c);
                }
                return null;
            });
            return;
        } catch (Exception e) {
            if (withWork.size() == 1) {
                withWork.get(0).workFailure = e;
                return;
            }
            LOG.warn("group commit: the transaction of {} messages failed ({}); writing them one by one",
                    withWork.size(), e.toString());
        }
        for (Request r : withWork) {
            try {
                db.transaction(r.work);
            } catch (Exception e) {
                r.workFailure = e;
            }
        }
    }

    private static SyncFailedException syncFailed(String message, Throwable cause) {
        SyncFailedException e = new SyncFailedException(message);
        e.initCause(cause);
        return e;
    }

    /** Serves every request made so far, then stops the syncer. */
    @Override
    public void close() {
        synchronized (admission) {
            if (stopped) {
                return;
            }
            stopped = true;
            pending.add(STOP);
            admission.notifyAll();
        }
        try {
            syncer.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
