package org.backstopmx.queue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.backstopmx.core.QueueException;

/**
 * Keeps the queue from starting on a database that lost mail: H2 opens a truncated file at an older state without a
 * word, and an empty or missing file as a new, empty database. Backstop then refuses to start, names the file and the
 * way out ({@code backstop queue rebuild}), instead of starting with fewer messages than it accepted.
 *
 * <ul>
 * <li>A missing or empty {@code queue.mv.db} while the spool holds message files.
 * <li>A file that went back in time while Backstop was stopped: a clean close writes {@code queue.closed} with H2's
 *     store version (every chunk H2 writes has a higher one); the next open compares it with the version H2 opened the
 *     file at, then removes the stamp. Changes made by another H2 client only move the version on, so rows deleted
 *     behind Backstop's back are not damage (startup recovery puts them back from the spool); a file cut short is.
 *     After a crash there is no stamp, and recovery re-inserts from the spool whatever the database lacks.
 * <li>H2 fails to open the file, or to read it in the checks that follow (schema, recovery, counters): see
 *     {@link #damaged}.
 * </ul>
 */
final class DatabaseGuard {
    static final String STAMP = "queue.closed";
    private static final String VERSION = "h2-store-version=";

    private DatabaseGuard() {
    }

    /**
     * Checks the files before H2 opens the database.
     *
     * @return the store version the last clean close recorded, or -1 when there is no stamp (a crash, or a first start)
     */
    static long beforeOpen(Path dir, Spool spool) throws QueueException, IOException {
        Path file = dir.resolve(QueueDatabase.FILE_NAME);
        long size = Files.exists(file) ? Files.size(file) : -1;
        if (size <= 0) {
            int messages = spool.allIds().size();
            if (messages > 0) {
                throw damaged(file, (size < 0 ? "it is missing" : "it is empty") + " while the spool holds "
                        + messages + " message files");
            }
        }
        Path stamp = dir.resolve(STAMP);
        if (!Files.exists(stamp)) {
            return -1;
        }
        String text = Files.readString(stamp, StandardCharsets.US_ASCII).trim();
        if (!text.startsWith(VERSION)) {
            return -1; // not ours to judge by
        }
        try {
            return Long.parseLong(text.substring(VERSION.length()));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Compares the version H2 opened the file at with the one recorded at the last clean close, then removes the
     * stamp, since the file is about to change.
     */
    static void afterOpen(Path dir, long now, long closedAt) throws QueueException, IOException {
        if (closedAt >= 0) {
            if (now < closedAt) {
                throw damaged(dir.resolve(QueueDatabase.FILE_NAME), "H2 opened it at store version " + now
                        + ", older than version " + closedAt + " at which Backstop closed it: the file lost its newest"
                        + " part (cut short or overwritten)");
            }
        }
        forget(dir);
    }

    /** After a clean close (H2 shut down, the file fsynced): records the store version. */
    static void afterClose(Path dir, long version) throws IOException {
        Path stamp = dir.resolve(STAMP);
        try (FileChannel ch = FileChannel.open(stamp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap((VERSION + version + "\n").getBytes(StandardCharsets.US_ASCII));
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        Spool.fsyncDirectory(dir);
    }

    /** Removes the stamp. */
    static void forget(Path dir) throws IOException {
        if (Files.deleteIfExists(dir.resolve(STAMP))) {
            Spool.fsyncDirectory(dir);
        }
    }

    /** The error that stops the appliance, with the way out. */
    static QueueException damaged(Path file, String what) {
        return damaged(file, what, null);
    }

    static QueueException damaged(Path file, String what, Throwable cause) {
        return new QueueException(QueueException.Kind.UNAVAILABLE, "the queue database " + file + " cannot be"
                + " trusted: " + what + ". Backstop does not start on it, so that no accepted mail is forgotten."
                + " Stop anything using the queue, then run `backstop queue rebuild --dry-run` to see what would be"
                + " restored and `backstop queue rebuild` to build a new database from the spool files (the old file"
                + " is kept in " + file.resolveSibling(Quarantine.DIR_NAME) + ")", cause);
    }
}
