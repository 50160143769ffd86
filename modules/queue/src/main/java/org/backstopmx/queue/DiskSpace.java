package org.backstopmx.queue;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Free space on the file system that holds the spool (and the database beside it).
 *
 * <p>Asked at every MAIL command, so the {@link FileStore} is looked up once; {@link FileStore#getUsableSpace()} is
 * then a single {@code statvfs} call.
 */
final class DiskSpace {
    private final FileStore store;
    private final long reserve;

    DiskSpace(Path onFileSystem, long reserve) throws IOException {
        this.store = Files.getFileStore(onFileSystem);
        this.reserve = reserve;
    }

    /**
     * The bytes that must stay free: the configured {@code queue.min-free-space}, or, when that is 0, 1.5 × the
     * largest message we accept, as Postfix does ({@code queue_minfree}), so one more maximal message always fits.
     */
    static long reserveFor(long minFreeSpace, long maxMessageSize) {
        return minFreeSpace > 0 ? minFreeSpace : saturatedAdd(maxMessageSize, maxMessageSize / 2);
    }

    long reserve() {
        return reserve;
    }

    /** Usable bytes now; 0 when the file system cannot be asked (treated as full, which is the safe answer). */
    long usable() {
        try {
            return store.getUsableSpace();
        } catch (IOException e) {
            return 0;
        }
    }

    boolean hasRoomFor(long expectedSize) {
        return usable() >= saturatedAdd(reserve, Math.max(0, expectedSize));
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return sum < 0 ? Long.MAX_VALUE : sum;
    }
}
