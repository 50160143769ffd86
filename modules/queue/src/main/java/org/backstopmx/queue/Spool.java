package org.backstopmx.queue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.backstopmx.core.QueueId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The spool files, one per message, each the record of its acceptance ({@link SpoolFile}: body, envelope, end
 * marker): {@code spool/X/<queue id>}, where {@code X} is the eighth hex digit of the id.
 *
 * <p>Bodies live outside H2 because a 4 KiB body inside H2 costs about 50 KB of copy-on-write chunk writes and makes
 * the database file balloon under churn (README: "The queue on H2"); a file is written once and removed with one unlink.
 * The eighth digit of an id is bits 12-15 of its arrival time in milliseconds: it moves to the next of the 16
 * directories every 4.1 seconds, so the files spread over all of them with time, while the messages of one group
 * commit (milliseconds apart) almost always share one directory and one directory fsync. The directories are created
 * once at open, so a new file only ever adds a name to an existing directory, and one fsync of that directory makes
 * the name durable.
 */
final class Spool {
    private static final Logger LOG = LoggerFactory.getLogger(Spool.class);
    static final String DIR_NAME = "spool";

    private final Path root;

    private Spool(Path root) {
        this.root = root;
    }

    /** Opens (and on first use creates, durably) the spool under {@code queueDir}. */
    static Spool open(Path queueDir) throws IOException {
        Path root = queueDir.resolve(DIR_NAME);
        boolean created = false;
        if (!Files.isDirectory(root)) {
            Files.createDirectories(root);
            created = true;
        }
        for (int i = 0; i < 16; i++) {
            Path dir = root.resolve(String.format("%X", i));
            if (!Files.isDirectory(dir)) {
                Files.createDirectory(dir);
                created = true;
            }
        }
        if (created) {
            // The subdirectories' names must be durable before any body file in them is acknowledged.
            fsyncDirectory(root);
            fsyncDirectory(queueDir);
        }
        return new Spool(root);
    }

    /** Opens an existing spool without creating anything (for the read-only lister). */
    static Spool existing(Path queueDir) {
        return new Spool(queueDir.resolve(DIR_NAME));
    }

    Path root() {
        return root;
    }

    Path directoryFor(QueueId id) {
        return root.resolve(subdirectory(id));
    }

    /** The name of the directory of {@code id}'s body file. */
    static String subdirectory(QueueId id) {
        return id.value().substring(7, 8);
    }

    Path fileFor(QueueId id) {
        return directoryFor(id).resolve(id.value());
    }

    /**
     * Creates the spool file with its header ({@link SpoolFile}), positioned for the body; fails if it exists, since
     * queue ids are unique and a clash means a bug or a replay.
     */
    FileChannel create(QueueId id) throws IOException {
        FileChannel ch = FileChannel.open(fileFor(id), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        try {
            ByteBuffer header = ByteBuffer.wrap(SpoolFile.HEADER);
            while (header.hasRemaining()) {
                ch.write(header);
            }
            return ch;
        } catch (IOException | RuntimeException e) {
            ch.close();
            Files.deleteIfExists(fileFor(id));
            throw e;
        }
    }

    /** The body of a stored message (without the spool file's header and envelope). */
    InputStream open(QueueId id) throws IOException {
        return SpoolFile.openBody(fileFor(id));
    }

    boolean exists(QueueId id) {
        return Files.exists(fileFor(id));
    }

    /** Removes a body file; false when there was none. */
    boolean delete(QueueId id) throws IOException {
        return Files.deleteIfExists(fileFor(id));
    }

    /**
     * Every body file in the spool, for startup recovery. Files whose names are not queue ids are logged and left
     * alone: nothing here created them, so nothing here should delete them.
     */
    List<QueueId> allIds() throws IOException {
        List<QueueId> ids = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root)) {
            for (Path dir : dirs) {
                if (!Files.isDirectory(dir)) {
                    LOG.warn("spool: unexpected file {}, left alone", dir);
                    continue;
                }
                try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
                    for (Path file : files) {
                        String name = file.getFileName().toString();
                        if (QueueId.isValid(name) && dir.equals(directoryFor(new QueueId(name)))) {
                            ids.add(new QueueId(name));
                        } else {
                            LOG.warn("spool: unexpected file {}, left alone", file);
                        }
                    }
                }
            }
        } catch (NoSuchFileException e) {
            return ids;
        }
        return ids;
    }

    /** fsync of a directory: makes the names created in it (or removed from it) durable. */
    static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
