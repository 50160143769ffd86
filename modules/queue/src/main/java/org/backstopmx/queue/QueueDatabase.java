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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.backstopmx.core.QueueException;
import org.h2.engine.SessionLocal;
import org.h2.jdbc.JdbcConnection;
import org.h2.jdbcx.JdbcConnectionPool;
import org.h2.mvstore.MVStore;
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

    private QueueDatabase(Path dir, String url) {
        this.dir = dir;
        this.url = url;
    }

    /** Opens (creating if needed) the database in {@code dir}, an absolute path. */
    static QueueDatabase open(Path dir) throws SQLException {
        H2StoreHeader.check(); // an H2 without what the workaround needs fails here, not at the first commit
        QueueDatabase db = new QueueDatabase(dir, url(dir) + SETTINGS + ";RETENTION_TIME=" + RETENTION_MS);
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
            MVStore store = mvStore(c);
            try {
                store.commit();
                H2StoreHeader.pointAtNewestChunk(store);
                store.sync();
            } catch (MVStoreException e) {
                throw new SQLException("H2 store failed: " + e.getMessage(), "HY000", e);
            }
            return null;
        });
    }

    /** The MVStore of the embedded database behind a pooled connection. */
    private static MVStore mvStore(Connection c) throws SQLException {
        return ((SessionLocal) c.unwrap(JdbcConnection.class).getSession()).getDatabase().getStore().getMvStore();
    }

    /**
     * Takes the database offline, runs {@code work} on its file, and reopens it. Work waiting meanwhile resumes
     * afterwards. If the database cannot be reopened it stays closed and every later call fails with UNAVAILABLE.
     */
    <T> T offline(FileWork<T> work) throws QueueException, SQLException, IOException {
        lock.writeLock().lock();
        try {
            if (closed) {
                throw StorageFailure.unavailable("maintenance");
            }
            try {
                shutdown(); // if this fails, work does not run, and the database is reopened (or was never closed)
                return work.run(file());
            } finally {
                try {
                    pool = newPool();
                } catch (SQLException | RuntimeException e) {
                    closed = true;
                    LOG.error("queue database {} could not be reopened after maintenance; the queue is closed", file(),
                            e);
                    throw e;
                }
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    private void enter() throws QueueException {
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
    }

    /** Connections of the pool in use now (0 while the database is being swapped). */
    int activeConnections() {
        JdbcConnectionPool p = pool;
        return p == null ? 0 : p.getActiveConnections();
    }

    private JdbcConnectionPool newPool() throws SQLException {
        JdbcConnectionPool p = JdbcConnectionPool.create(url, USER, "");
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
        try (Connection c = DriverManager.getConnection(url, USER, ""); Statement s = c.createStatement()) {
            s.execute("CHECKPOINT SYNC");
            version = storeVersion(c);
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

    /** H2's store version now ({@code info.CURRENT_VERSION}): it only grows as the file is written. */
    static long storeVersion(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
                java.sql.ResultSet rs = s.executeQuery("SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS"
                        + " WHERE SETTING_NAME = 'info.CURRENT_VERSION'")) {
            return rs.next() ? Long.parseLong(rs.getString(1)) : -1;
        }
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
