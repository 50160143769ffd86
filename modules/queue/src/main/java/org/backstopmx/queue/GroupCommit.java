package org.backstopmx.queue;

import java.io.SyncFailedException;
import java.nio.file.Path;
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
import org.backstopmx.core.QueueException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit: one syncer thread makes many committed transactions durable with one fsync.
 *
 * <p>A writer commits its transaction (H2 with WRITE_DELAY=0 has then written, but not fsynced, its chunk), then calls
 * {@link #awaitDurable}, which hands the syncer a request and waits. The syncer takes every request waiting at that
 * moment (the ticket snapshot), fsyncs the spool directories that got new files in them, runs {@code CHECKPOINT SYNC},
 * and then releases exactly those requests. Since each request was made after its commit, the fsync that releases it
 * started after that commit: the property the 250 reply depends on. While one fsync runs the next group gathers, so
 * under load the number of fsyncs per message falls (measured ~8 messages per fsync with 20 writers).
 *
 * <p>This is the "requested / done counter" scheme measured for H2 (README: "The queue on H2") with the counter replaced by the requests
 * themselves, which lets a failed fsync fail exactly the requests it was meant to cover.
 *
 * <p>The spool directories are fsynced before the database: an acknowledged message then never has a row whose body
 * file name is not durable.
 */
final class GroupCommit implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GroupCommit.class);
    private static final long WAIT_SECONDS = 120;
    private static final Request STOP = new Request(null);

    /** The database half of a round (CHECKPOINT SYNC). */
    interface DatabaseSync {
        void sync() throws Exception;
    }

    private static final class Request {
        final Path newFileDirectory;
        final CompletableFuture<Void> done = new CompletableFuture<>();

        Request(Path newFileDirectory) {
            this.newFileDirectory = newFileDirectory;
        }
    }

    private final DatabaseSync databaseSync;
    private final BlockingQueue<Request> pending = new LinkedBlockingQueue<>();
    private final Object admission = new Object();
    private boolean stopped; // guarded by admission: nothing is queued after STOP
    private final AtomicLong rounds = new AtomicLong();
    private final AtomicLong requests = new AtomicLong();
    private final Thread syncer;

    private GroupCommit(DatabaseSync databaseSync) {
        this.databaseSync = databaseSync;
        // A daemon: a JVM that exits without closing the queue loses nothing that was acknowledged.
        this.syncer = new Thread(this::run, "queue-syncer");
        this.syncer.setDaemon(true);
    }

    static GroupCommit start(DatabaseSync databaseSync) {
        GroupCommit g = new GroupCommit(databaseSync);
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
        Request request = new Request(newFileDirectory);
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

    private void run() {
        List<Request> batch = new ArrayList<>();
        while (true) {
            try {
                batch.add(pending.take());
            } catch (InterruptedException e) {
                continue; // only close() stops the syncer, through STOP, so that no request is left waiting
            }
            pending.drainTo(batch);
            boolean stop = batch.remove(STOP);
            if (!batch.isEmpty()) {
                round(batch);
            }
            batch.clear();
            if (stop) {
                return;
            }
        }
    }

    private void round(List<Request> batch) {
        Throwable failure = null;
        try {
            Set<Path> directories = new LinkedHashSet<>();
            for (Request r : batch) {
                if (r.newFileDirectory != null) {
                    directories.add(r.newFileDirectory);
                }
            }
            for (Path dir : directories) {
                Spool.fsyncDirectory(dir);
            }
            databaseSync.sync();
            rounds.incrementAndGet();
        } catch (Throwable t) {
            failure = t;
            LOG.error("group commit: fsync failed, failing {} waiting commits", batch.size(), t);
        }
        for (Request r : batch) {
            if (failure == null) {
                r.done.complete(null);
            } else {
                r.done.completeExceptionally(failure);
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
        }
        try {
            syncer.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
