package org.backstopmx.queue;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code queue.path/quarantine/}: where the queue puts what it cannot read instead of deleting it, like Postfix's
 * {@code corrupt} queue. A spool file whose envelope is damaged, a body of an earlier release without rows, a
 * database set aside by {@code queue rebuild}: each is moved here with a log line naming it and why, and counted
 * ({@code backstop_queue_quarantined}). Nothing here is ever deleted by Backstop; the admin looks and decides.
 */
final class Quarantine {
    private static final Logger LOG = LoggerFactory.getLogger(Quarantine.class);
    static final String DIR_NAME = "quarantine";

    private final Path dir;
    private final AtomicLong count;

    private Quarantine(Path dir, long count) {
        this.dir = dir;
        this.count = new AtomicLong(count);
    }

    /** The quarantine of the queue in {@code queueDir}; counts what is there already, creates nothing yet. */
    static Quarantine of(Path queueDir) throws IOException {
        Path dir = queueDir.resolve(DIR_NAME);
        long n = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path ignored : entries) {
                n++;
            }
        } catch (NoSuchFileException e) {
            // nothing quarantined yet
        }
        return new Quarantine(dir, n);
    }

    Path directory() {
        return dir;
    }

    /** Entries in the quarantine directory. */
    long count() {
        return count.get();
    }

    /**
     * Moves {@code file} into the quarantine, under its own name (or with {@code .1}, {@code .2}... when taken), and
     * makes the move durable: the new name is fsynced before the old one disappears for good.
     *
     * @return where it is now
     */
    Path move(Path file, String why) throws IOException {
        Files.createDirectories(dir);
        String name = file.getFileName().toString();
        Path target = dir.resolve(name);
        // rename(2) would replace a file of the same name, so pick a free one first (one process holds the queue)
        for (int i = 1; Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS); i++) {
            target = dir.resolve(name + "." + i);
        }
        Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
        Spool.fsyncDirectory(dir);
        Spool.fsyncDirectory(file.toAbsolutePath().getParent());
        count.incrementAndGet();
        LOG.warn("quarantine: {} moved to {}: {}", file, target, why);
        return target;
    }
}
