package org.backstopmx.queue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.backstopmx.core.QueueException;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps {@code queue.mv.db} near the size of its live data.
 *
 * <p>With WRITE_DELAY=0 H2 never compacts online (its housekeeping runs only in the background writer that
 * WRITE_DELAY=0 switches off), so under churn the file only grows (README: "The queue on H2"). Only a full rewrite brought
 * it back to the live size. {@code SHUTDOWN COMPACT} does that rewrite, but into a temporary file that it renames over
 * the database without any fsync: a power cut soon after could leave a renamed, empty file, that is, no queue. So we
 * do the same steps ourselves, with the fsyncs: shut down (after CHECKPOINT SYNC), copy the live pages into
 * {@code queue.mv.db.compact} with H2's own {@link MVStore#compact(String, String, boolean, org.h2.mvstore.FileStore)},
 * fsync it, rename it over the database, fsync the directory, reopen. A crash at any point leaves either the old or the
 * new complete file; a leftover {@code .compact} file is deleted at the next start.
 */
class Compactor { // not final: tests put faults in the way of a real one
    private static final Logger LOG = LoggerFactory.getLogger(Compactor.class);
    static final String TEMP_SUFFIX = ".compact";

    /** The result of a check: sizes (live -1 when not estimated), and whether they call for a compaction. */
    record Check(long fileSize, long liveEstimate, boolean due) {
    }

    private final QueueDatabase db;
    private final double ratio;
    private final long minSize;

    /** Null in tests without one; else waited for after a compaction, see {@link #compact}. */
    private final GroupCommit groupCommit;

    Compactor(QueueDatabase db, double ratio, long minSize) {
        this(db, null, ratio, minSize);
    }

    Compactor(QueueDatabase db, GroupCommit groupCommit, double ratio, long minSize) {
        this.db = db;
        this.groupCommit = groupCommit;
        this.ratio = ratio;
        this.minSize = minSize;
    }

    /** Deletes what an interrupted compaction left behind; the database file itself is always complete. */
    static void cleanUp(Path databaseFile) throws IOException {
        Path temp = temp(databaseFile);
        if (Files.deleteIfExists(temp)) {
            LOG.warn("queue recovery: removed {} left by an interrupted compaction", temp);
        }
    }

    /** Compaction is due when the file is larger than both {@code compact-min-size} and ratio × live data. */
    Check check() throws QueueException, SQLException {
        long file = db.fileSize();
        if (file <= minSize) {
            return new Check(file, -1, false); // a stat is enough: the estimate costs a query
        }
        long live = liveEstimate();
        return new Check(file, live, file > ratio * live);
    }

    /**
     * The live data: H2's approximate on-disk size of every table with its indexes (it samples the B-tree pages, so
     * it stays cheap on a big queue), plus the fixed overhead of an empty database (headers, metadata).
     */
    long liveEstimate() throws QueueException, SQLException {
        return db.read(c -> {
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT COALESCE(SUM(DB_OBJECT_APPROXIMATE_TOTAL_SIZE('TABLE',"
                            + " TABLE_SCHEMA, TABLE_NAME)), 0) FROM INFORMATION_SCHEMA.TABLES"
                            + " WHERE TABLE_SCHEMA = 'PUBLIC' AND TABLE_TYPE = 'BASE TABLE'")) {
                rs.next();
                return rs.getLong(1) + EMPTY_DATABASE_BYTES;
            }
        });
    }

    /** About what a compacted database with empty tables takes (measured: 40-60 KB). */
    static final long EMPTY_DATABASE_BYTES = 64 * 1024;

    /**
     * Rewrites the database offline. Receivers are answered meanwhile from their spool files ({@link GroupCommit});
     * other database work waits. Returns once the rows of the messages answered meanwhile are written too, so that
     * what was accepted is in the queue's listings when this returns.
     */
    Compaction compact(long liveEstimate) throws QueueException, SQLException, IOException {
        long free = Files.getFileStore(db.file().getParent()).getUsableSpace();
        if (free < 2 * liveEstimate) {
            // The copy needs about the live size; running the disk full would also fail the bodies being received.
            throw new IOException("not compacting: " + free + " bytes free, the copy needs about " + liveEstimate);
        }
        long before = db.fileSize();
        long start = System.nanoTime();
        db.offline(file -> {
            Path temp = temp(file);
            Files.deleteIfExists(temp);
            try {
                MVStore.compact(file.toString(), temp.toString(), false, null);
                try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                    ch.force(true);
                }
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                Spool.fsyncDirectory(file.getParent());
            } catch (IOException | RuntimeException e) {
                // The original file is untouched until the rename, and the rename is atomic: reopen it as it is.
                Files.deleteIfExists(temp);
                throw e instanceof IOException ? (IOException) e : new IOException("compaction failed: " + e, e);
            }
            return null;
        });
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        if (groupCommit != null) {
            groupCommit.awaitDurable(null); // a round after the reopen: it writes what was answered meanwhile
        }
        Compaction result = new Compaction(before, db.fileSize(), liveEstimate, took);
        LOG.info("queue database compacted: {} -> {} bytes (live data about {}) in {} ms", result.sizeBefore(),
                result.sizeAfter(), liveEstimate, took.toMillis());
        return result;
    }

    private static Path temp(Path databaseFile) {
        return databaseFile.resolveSibling(databaseFile.getFileName() + TEMP_SUFFIX);
    }
}
