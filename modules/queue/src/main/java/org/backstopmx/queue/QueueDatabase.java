package org.backstopmx.queue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.backstopmx.core.QueueException;
import org.h2.api.ErrorCode;
import org.h2.jdbcx.JdbcConnectionPool;
import org.h2.mvstore.DataUtils;
import org.h2.mvstore.MVStoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The H2 database {@code queue.mv.db}: its URL, a small connection pool, and the read/write lock that lets
 * maintenance take the database offline for a moment.
 *
 * <p>Every piece of database work holds the read side of the lock for as long as it holds a connection.
 * {@link #offline} takes the write side: it waits for that work to finish, makes new work wait (not fail), shuts
 * H2 down, lets its caller rewrite the file, and reopens a new pool. Nothing may hold the read side while it waits
 * for something that itself needs the read side (the group commit): the writer queued in between would deadlock them.
 *
 * <p>H2 closes a database by itself when a write to its file fails (a full disk: {@code Writing to ... failed}, then
 * {@code The database has been closed} for every connection of the pool). Such a database is <em>lost</em> until it
 * is reopened: {@link #reopen} takes the write side like a maintenance window, so work waits for it instead of
 * failing, disposes the dead pool and opens the file again, as a restart would, with {@code IFEXISTS=TRUE} so that a
 * file gone from under us never becomes a new, empty queue. A reopen keeps exactly what a restart would keep: H2
 * reads the file as it does at a start, and what it had not stored when it closed is gone either way. Work that meets
 * a lost database reopens it on the way in; after a failed attempt the next one waits {@link #REOPEN_RETRY_MILLIS}.
 *
 * <p>Over 400 lines on purpose: the pool, the read/write lock, the maintenance window, the reopen of a lost database
 * and the clean shutdown all turn on the one lock and the one pool reference, and each needs the others' invariants
 * (nothing holds the read side while it waits for the group commit; a reopen and a compaction exclude each other).
 * Split apart, that lock would be shared across classes; what stands alone already does ({@code H2StoreHeader} for H2's
 * internals, {@code DatabaseGuard} for the checks at open, {@code Compactor} for the file rewrite).
 */
final class QueueDatabase implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(QueueDatabase.class);

    static final String BASE_NAME = "queue";
    static final String FILE_NAME = BASE_NAME + ".mv.db";
    /** The user that creates the database is its admin; ADMIN is needed for CHECKPOINT SYNC. */
    static final String USER = "backstop";
    private static final int POOL_SIZE = 32;
    /** How long work waits for a maintenance window before giving up with UNAVAILABLE. */
    private static final long MAINTENANCE_WAIT_SECONDS = 120;
    /** After a failed reopen, how long work fails at once before the next attempt. */
    static final long REOPEN_RETRY_MILLIS = 1000;

    /**
     * Settings, each for a reason (README: "The queue on H2"):
     * WRITE_DELAY=0 - every commit writes its chunk before returning, so kill -9 loses nothing acknowledged and the
     *   group commit's fsync covers every commit made before it (with a delay the write may still be queued);
     * DB_CLOSE_DELAY=-1, DB_CLOSE_ON_EXIT=FALSE - the database closes when we say so (SHUTDOWN), not when the pool
     *   happens to be empty or a JVM shutdown hook runs while our threads still work;
     * MAX_COMPACT_TIME=0 - no in-place compaction at close: it moves chunks without an fsync; we compact offline
     *   into a new, fsynced file instead (Compactor);
     * RETENTION_TIME - see below; TRACE_LEVEL_FILE=4 - H2's trace goes to SLF4J, no queue.trace.db;
     * QUERY_CACHE_SIZE - every session re-parses less (the default 8 is below the number of statements we use).
     */
    private static final String SETTINGS = ";WRITE_DELAY=0;DB_CLOSE_DELAY=-1;DB_CLOSE_ON_EXIT=FALSE;MAX_COMPACT_TIME=0"
            + ";TRACE_LEVEL_FILE=4;QUERY_CACHE_SIZE=32;LOCK_TIMEOUT=10000";

    /**
     * How long H2 keeps freed chunks before reusing their space. The default 45 s makes the file level off at write
     * rate × 45 s (GBs under churn); 0 lets H2 overwrite a chunk the last fsynced state may still point to. Every
     * write we make is followed by a group-commit fsync within milliseconds, so a few seconds keeps the fsynced state
     * intact while bounding growth between compactions.
     */
    static final int RETENTION_MS = 5_000;

    /** One piece of database work on a pooled connection. */
    interface SqlWork<T> {
        T run(Connection c) throws SQLException;
    }

    /** Work on the closed database file (compaction). */
    interface FileWork<T> {
        T run(Path databaseFile) throws IOException;
    }

    private final Path dir;
    private final String url;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private volatile JdbcConnectionPool pool;
    private volatile boolean closed;
    /** Set once the open checks passed: only then does a clean close vouch for the file ({@link DatabaseGuard}). */
    private volatile boolean checked;
    /** Why the database is lost (closed by H2, or not reopened after maintenance); null while it is open. */
    private volatile Exception lost;
    /** When the last reopen failed (System.nanoTime), for {@link #REOPEN_RETRY_MILLIS}; guarded by the write lock. */
    private long lastFailedReopen;
    private final AtomicLong reopens = new AtomicLong();
    private volatile SqlWork<?> afterReopen;
    /** Set from before {@link #offline} asks for the write lock until it has reopened: work would wait meanwhile. */
    private volatile boolean maintaining;

    private QueueDatabase(Path dir, String url) {
        this.dir = dir;
        this.url = url;
    }

    /** Opens (creating if needed) the database in {@code dir}, an absolute path. */
    static QueueDatabase open(Path dir) throws SQLException {
        H2StoreHeader.check(); // an H2 without what the workaround needs fails here, not at the first commit
        QueueDatabase db = new QueueDatabase(dir, url(dir) + SETTINGS + ";RETENTION_TIME=" + RETENTION_MS);
        if (!Files.exists(db.file())) {
            // the only connection that may create the file: the pool and every reopen insist that it exists
            DriverManager.getConnection(db.url, USER, "").close(); // DB_CLOSE_DELAY=-1 keeps it open
        }
        db.pool = db.newPool();
        return db;
    }

    /** The JDBC URL without settings; H2 needs an absolute path, and a ';' would start a setting. */
    static String url(Path dir) {
        String path = dir.resolve(BASE_NAME).toString();
        if (!dir.isAbsolute() || path.indexOf(';') >= 0) {
            throw new IllegalArgumentException("queue path must be absolute and contain no ';': " + dir);
        }
        return "jdbc:h2:file:" + path;
    }

    /** The open checks (schema, recovery, counters) passed: a clean close may now stamp the file as good. */
    void checked() {
        this.checked = true;
    }

    boolean isClosed() {
        return closed;
    }

    /** Why the database cannot be used until it is reopened; empty while it is open (or closed by {@link #close}). */
    Optional<Exception> lost() {
        return Optional.ofNullable(lost);
    }

    /**
     * Work to run right after every reopen, before any other work sees the database again (the queue reloads its
     * counters: what H2 had not stored when it closed the database is gone, and counters moved for it must follow).
     * A failure of it is logged; the database stays open.
     */
    void afterReopen(SqlWork<?> work) {
        this.afterReopen = work;
    }

    /** Successful reopens of a lost database since open. */
    long reopens() {
        return reopens.get();
    }

    Path file() {
        return dir.resolve(FILE_NAME);
    }

    long fileSize() {
        try {
            return Files.size(file());
        } catch (IOException e) {
            return 0;
        }
    }

    /** Runs {@code work} with autocommit on. */
    <T> T read(SqlWork<T> work) throws QueueException, SQLException {
        enter();
        try (Connection c = pool.getConnection()) {
            return work.run(c);
        } catch (SQLException | RuntimeException e) {
            noteIfClosed(e);
            throw e;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Runs {@code work} in one transaction: committed when it returns, rolled back when it throws. */
    <T> T transaction(SqlWork<T> work) throws QueueException, SQLException {
        enter();
        try (Connection c = pool.getConnection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException r) {
                    e.addSuppressed(r);
                }
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException | RuntimeException e) {
            noteIfClosed(e);
            throw e;
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Writes everything committed so far and fsyncs the file, so that H2 finds it again after a crash: what
     * {@code CHECKPOINT SYNC} does (MVStore commit, then fsync), with H2's file header rewritten in between to name the
     * newest chunk. Without that, H2 2.5.252 lets the header name the chunk before the newest when the newest went into
     * reused space, and its recovery at the next open stops there and rolls back transactions that were committed and
     * fsynced ({@link H2StoreHeader}; README, "The queue on H2"). H2 never fsyncs on its own, not even on close.
     */
    void sync() throws QueueException, SQLException {
        read(c -> {
            H2StoreHeader.commitAndSync(c);
            return null;
        });
    }

    /**
     * Takes the database offline, runs {@code work} on its file, and reopens it. Work waiting meanwhile resumes
     * afterwards. If the database cannot be reopened it is lost (see the class description): work fails with
     * UNAVAILABLE until a later {@link #reopen} succeeds.
     */
    <T> T offline(FileWork<T> work) throws QueueException, SQLException, IOException {
        maintaining = true; // before the lock: from the moment a writer queues, new readers wait for it
        lock.writeLock().lock();
        try {
            if (closed) {
                throw StorageFailure.unavailable("maintenance");
            }
            if (lost != null) {
                throw lostFailure("maintenance");
            }
            try {
                shutdown(); // if this fails, work does not run, and the database is reopened (or was never closed)
                return work.run(file());
            } finally {
                try {
                    pool = newPool();
                } catch (SQLException | RuntimeException e) {
                    lost = e;
                    lastFailedReopen = System.nanoTime();
                    LOG.error("queue database {} could not be reopened after maintenance; the queue takes no mail"
                            + " until it is", file(), e);
                    throw e;
                }
            }
        } finally {
            maintaining = false;
            lock.writeLock().unlock();
        }
    }

    /**
     * Whether {@link #offline} is under way (or about to take the lock): database work started now would wait for it.
     * The group commit asks, so that it can answer commits whose spool file already holds the message.
     */
    boolean maintaining() {
        return maintaining;
    }

    /**
     * Reopens a lost database, waiting for work in progress as a maintenance window does; a no-op while the database
     * is open. After a failed attempt the next one is made only {@link #REOPEN_RETRY_MILLIS} later.
     *
     * @return true when the database is open (again) on return
     */
    boolean reopen() {
        if (lost == null || closed) {
            return lost == null && !closed;
        }
        if (lock.getReadHoldCount() > 0) {
            return false; // cannot take the write side while holding the read side; the caller fails, a later one reopens
        }
        try {
            if (!lock.writeLock().tryLock(MAINTENANCE_WAIT_SECONDS, TimeUnit.SECONDS)) {
                return false;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        try {
            Exception why = lost;
            if (why == null || closed) {
                return why == null && !closed; // another thread reopened it (or closed the queue) meanwhile
            }
            if (lastFailedReopen != 0
                    && System.nanoTime() - lastFailedReopen < TimeUnit.MILLISECONDS.toNanos(REOPEN_RETRY_MILLIS)) {
                return false;
            }
            JdbcConnectionPool dead = pool;
            if (dead != null) {
                dead.dispose();
            }
            try {
                pool = newPool();
            } catch (SQLException | RuntimeException e) {
                lastFailedReopen = System.nanoTime();
                lost = e;
                LOG.warn("queue database {}: cannot reopen it yet: {}", file(), Reasons.brief(e));
                return false;
            }
            lost = null;
            lastFailedReopen = 0;
            reopens.incrementAndGet();
            LOG.warn("queue database {} reopened (it was closed: {})", file(), Reasons.brief(why));
            SqlWork<?> after = afterReopen;
            if (after != null) {
                try (Connection c = pool.getConnection()) {
                    after.run(c);
                } catch (SQLException | RuntimeException e) {
                    noteIfClosed(e);
                    LOG.warn("queue database {}: reopened, but the work after the reopen failed: {}", file(),
                            Reasons.brief(e));
                }
            }
            return true;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Marks the database lost when {@code e} says H2 has closed it (or closed it while failing). */
    private void noteIfClosed(Exception e) {
        if (lost == null && !closed && meansLost(e)) {
            lost = e;
            LOG.error("queue database {} is not open any more ({}); it is reopened as soon as it can be", file(),
                    Reasons.brief(e));
        }
    }

    /**
     * Anywhere in the chain: "The database has been closed", a failed write of H2's store (after which H2 closes it),
     * or, for a new connection of the pool, a database file that is not there any more. Each throwable is looked at
     * once: H2's chains have cycles.
     */
    static boolean meansLost(Throwable t) {
        java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Throwable x = t; x != null && seen.add(x); x = x.getCause()) {
            if (x instanceof SQLException) {
                int code = ((SQLException) x).getErrorCode();
                if (code == ErrorCode.DATABASE_IS_CLOSED || code == ErrorCode.DATABASE_CALLED_AT_SHUTDOWN
                        || code == ErrorCode.DATABASE_NOT_FOUND_WITH_IF_EXISTS_1) {
                    return true;
                }
            }
            if (x instanceof MVStoreException) {
                int code = ((MVStoreException) x).getErrorCode();
                if (code == DataUtils.ERROR_WRITING_FAILED || code == DataUtils.ERROR_CLOSED) {
                    return true;
                }
            }
        }
        return false;
    }

    private QueueException lostFailure(String what) {
        return new QueueException(QueueException.Kind.UNAVAILABLE, what + ": the queue database is closed and not"
                + " reopened yet (" + Reasons.brief(lost) + ")", lost);
    }

    private void enter() throws QueueException {
        if (lost != null && !reopen() && lost != null) {
            throw lostFailure("database");
        }
        try {
            if (closed || !lock.readLock().tryLock(MAINTENANCE_WAIT_SECONDS, TimeUnit.SECONDS)) {
                throw StorageFailure.unavailable("database");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw StorageFailure.unavailable("database (interrupted)");
        }
        if (closed) {
            lock.readLock().unlock();
            throw StorageFailure.unavailable("database");
        }
        if (lost != null) {
            lock.readLock().unlock();
            throw lostFailure("database");
        }
    }

    /** Connections of the pool in use now (0 while the database is being swapped). */
    int activeConnections() {
        JdbcConnectionPool p = pool;
        return p == null ? 0 : p.getActiveConnections();
    }

    /** A pool on the existing file: IFEXISTS, so that a reopen never creates an empty database in a lost one's place. */
    private JdbcConnectionPool newPool() throws SQLException {
        JdbcConnectionPool p = JdbcConnectionPool.create(url + ";IFEXISTS=TRUE", USER, "");
        p.setMaxConnections(POOL_SIZE);
        try (Connection c = p.getConnection()) {
            // Opens the database now, so a locked or corrupt file fails here and not at the first message.
            c.isValid(1);
        } catch (SQLException | RuntimeException e) {
            p.dispose();
            throw e;
        }
        return p;
    }

    /**
     * Syncs and shuts H2 down; then fsyncs the file, since H2's close writes a last chunk without an fsync.
     *
     * @return H2's store version at the last sync (its chunks are numbered by it): a later open must not be older
     */
    private long shutdown() throws SQLException, IOException {
        JdbcConnectionPool p = pool;
        long version;
        // A plain connection, not a pooled one: returning a pooled connection rolls back on the closed database.
        try (Connection c = DriverManager.getConnection(url + ";IFEXISTS=TRUE", USER, "");
                Statement s = c.createStatement()) {
            s.execute("CHECKPOINT SYNC");
            version = H2StoreHeader.storeVersion(c);
            s.execute("SHUTDOWN");
        } finally {
            p.dispose();
        }
        try (FileChannel ch = FileChannel.open(file(), StandardOpenOption.WRITE)) {
            ch.force(true);
        } catch (NoSuchFileException e) {
            // nothing to make durable
        }
        return version;
    }

    /** Waits for work in progress, syncs and shuts the database down. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            long version = shutdown();
            if (checked) {
                DatabaseGuard.afterClose(dir, version);
            }
        } catch (SQLException | IOException | RuntimeException e) {
            LOG.error("queue database {} did not shut down cleanly; it will be recovered at the next start", file(), e);
        } finally {
            lock.writeLock().unlock();
        }
    }
}
