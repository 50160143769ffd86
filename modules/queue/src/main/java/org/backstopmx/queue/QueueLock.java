package org.backstopmx.queue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.backstopmx.core.QueueException;

/**
 * The lock file {@code queue.lock} that keeps a second process (or a second open in this JVM) away from a queue.
 *
 * <p>H2 locks its own file too, but two opens in one JVM would silently share one H2 database, and H2's message
 * ("Database may be already in use") does not say what to do. The writer holds an exclusive lock and writes its pid
 * into the file; the read-only lister takes a shared lock, so it fails clearly while the appliance runs.
 *
 * <p>POSIX record locks belong to the process, and closing any descriptor of the file drops all of them, so this JVM
 * must never open the lock file of a queue it already holds: {@link #HELD} is checked first.
 */
final class QueueLock implements AutoCloseable {
    static final String FILE_NAME = "queue.lock";
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

    private final Path dir;
    private final FileChannel channel;
    private final FileLock lock;

    private QueueLock(Path dir, FileChannel channel, FileLock lock) {
        this.dir = dir;
        this.channel = channel;
        this.lock = lock;
    }

    /** For the appliance: no other process may read or write the queue while this is held. */
    static QueueLock exclusive(Path dir) throws QueueException {
        return acquire(dir, false);
    }

    /** For an offline reader: fails while a writer holds the queue; other readers may share it. */
    static QueueLock shared(Path dir) throws QueueException {
        return acquire(dir, true);
    }

    private static QueueLock acquire(Path dir, boolean shared) throws QueueException {
        if (!HELD.add(dir)) {
            throw new QueueException(QueueException.Kind.UNAVAILABLE,
                    "queue " + dir + " is already open in this process");
        }
        FileChannel channel = null;
        try {
            // A shared lock needs only read access, so a lister may run as a user who cannot write the queue.
            channel = shared
                    ? FileChannel.open(dir.resolve(FILE_NAME), StandardOpenOption.READ)
                    : FileChannel.open(dir.resolve(FILE_NAME), StandardOpenOption.READ, StandardOpenOption.WRITE,
                            StandardOpenOption.CREATE);
            FileLock lock;
            try {
                lock = channel.tryLock(0, Long.MAX_VALUE, shared);
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                String holder = readHolder(channel);
                throw new QueueException(QueueException.Kind.UNAVAILABLE, "queue " + dir
                        + " is in use by another Backstop process" + (holder.isEmpty() ? "" : " (pid " + holder + ")")
                        + "; stop it first, or use the admin API of the running appliance");
            }
            if (!shared) {
                byte[] pid = (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII);
                channel.truncate(0);
                channel.write(ByteBuffer.wrap(pid), 0);
            }
            return new QueueLock(dir, channel, lock);
        } catch (java.nio.file.NoSuchFileException e) {
            HELD.remove(dir);
            throw new QueueException(QueueException.Kind.STORAGE_ERROR, "no queue at " + dir, e);
        } catch (IOException e) {
            closeQuietly(channel);
            HELD.remove(dir);
            throw new QueueException(QueueException.Kind.STORAGE_ERROR,
                    "cannot lock queue " + dir + " (" + dir.resolve(FILE_NAME) + "): " + e, e);
        } catch (QueueException | RuntimeException e) {
            closeQuietly(channel);
            HELD.remove(dir);
            throw e;
        }
    }

    private static String readHolder(FileChannel channel) {
        try {
            ByteBuffer buf = ByteBuffer.allocate(32);
            channel.read(buf, 0);
            return new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII).trim();
        } catch (IOException e) {
            return "";
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing was locked through it
            }
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel below releases it as well
        }
        closeQuietly(channel);
        HELD.remove(dir);
    }
}
