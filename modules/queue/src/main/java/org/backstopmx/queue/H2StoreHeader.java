package org.backstopmx.queue;

import java.lang.reflect.Field;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import org.h2.engine.SessionLocal;
import org.h2.jdbc.JdbcConnection;
import org.h2.mvstore.FileStore;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.MVStoreException;
import org.h2.mvstore.RandomAccessStore;

/**
 * Works around an H2 2.x MVStore bug that loses committed, fsynced transactions after kill -9 (verified on 2.5.252).
 *
 * <p>When a chunk is written where the previous chunk did not predict it (space reuse, RETENTION_TIME), H2 rewrites the
 * file header so that a crash recovery can find the new chunk - but the header it writes names the chunk before the
 * new one ({@code FileStore.storeBuffer} sets {@code lastChunk} only after {@code RandomAccessStore.writeChunk} has
 * written the header from it). Recovery starts at that chunk, follows its "next" prediction, does not find the new
 * chunk there and stops: everything committed in the new chunk and in the ones written after it (up to H2's next
 * header write, at most about 20 versions later) is rolled back at open, although it was written and fsynced.
 *
 * <p>{@link #pointAtNewestChunk} writes the header again, naming the newest chunk, under the same locks H2 holds when
 * it writes chunks. Call it after the commit that must survive and before the fsync.
 *
 * <p>Bound to H2's internals (a private method and two fields): the static initializer fails when they change, so an
 * H2 upgrade fails loudly at open instead of silently dropping the workaround. Re-check the bug on every H2 upgrade
 * (H2StoreHeaderTest) and remove this class once H2 fixes it.
 */
final class H2StoreHeader {
    private static final Method WRITE_STORE_HEADER;
    private static final Field SAVE_CHUNK_LOCK;
    private static final Field STORE_HEADER;

    static {
        try {
            WRITE_STORE_HEADER = RandomAccessStore.class.getDeclaredMethod("writeStoreHeader");
            WRITE_STORE_HEADER.setAccessible(true);
            SAVE_CHUNK_LOCK = FileStore.class.getDeclaredField("saveChunkLock");
            SAVE_CHUNK_LOCK.setAccessible(true);
            STORE_HEADER = FileStore.class.getDeclaredField("storeHeader");
            STORE_HEADER.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new ExceptionInInitializerError("this H2 version does not have the internals the store-header"
                    + " workaround needs (see H2StoreHeader): " + e);
        }
    }

    private H2StoreHeader() {
    }

    /**
     * What {@code CHECKPOINT SYNC} does (MVStore commit, then fsync) with the header rewritten in between
     * ({@link #pointAtNewestChunk}), on the embedded database behind {@code c}: every commit made before the call is
     * on disk where H2's recovery finds it when this returns.
     */
    static void commitAndSync(Connection c) throws SQLException {
        MVStore store = ((SessionLocal) c.unwrap(JdbcConnection.class).getSession()).getDatabase().getStore()
                .getMvStore();
        try {
            store.commit();
            pointAtNewestChunk(store);
            store.sync();
        } catch (MVStoreException e) {
            throw new SQLException("H2 store failed: " + e.getMessage(), "HY000", e);
        }
    }

    /** H2's store version now ({@code info.CURRENT_VERSION}): it only grows as the file is written. */
    static long storeVersion(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS"
                        + " WHERE SETTING_NAME = 'info.CURRENT_VERSION'")) {
            return rs.next() ? Long.parseLong(rs.getString(1)) : -1;
        }
    }

    /** Loads the class, so that a missing internal fails at open, not at the first commit. */
    static void check() {
        // the static initializer did the work
    }

    /**
     * Rewrites the file header so that it names the newest chunk written so far. Runs under MVStore's storeLock and
     * FileStore's serializationLock (executeFilestoreOperation: no chunk is being serialized or written meanwhile)
     * and FileStore's saveChunkLock (which guards lastChunk and the header map), in H2's own lock order.
     */
    static void pointAtNewestChunk(MVStore store) {
        FileStore<?> fs = store.getFileStore();
        if (!(fs instanceof RandomAccessStore)) {
            return; // in-memory or append-only stores: not affected
        }
        // A failure in here (a write error) makes H2 close the store, as a failed chunk write does.
        store.executeFilestoreOperation(() -> {
            try {
                ReentrantLock saveChunkLock = (ReentrantLock) SAVE_CHUNK_LOCK.get(fs);
                saveChunkLock.lock();
                try {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> header = (Map<String, Object>) STORE_HEADER.get(fs);
                    // never claim a clean shutdown: chunks written after this one must still be searched for
                    header.remove("clean");
                    WRITE_STORE_HEADER.invoke(fs);
                } finally {
                    saveChunkLock.unlock();
                }
            } catch (InvocationTargetException e) {
                throw new IllegalStateException("cannot write the H2 store header", e.getCause());
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("cannot write the H2 store header", e);
            }
        });
    }
}
