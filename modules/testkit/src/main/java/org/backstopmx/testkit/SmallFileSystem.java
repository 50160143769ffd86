package org.backstopmx.testkit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A small file system of its own for a test that fills the disk: a {@code tmpfs} of a given size mounted on a
 * directory of the test's ({@code mount -t tmpfs -o size=...}; needs root, as in CI). The test fills it with a filler
 * file, leaving as many bytes free as it wants, and empties it again; the space the rest of the machine has is never
 * touched.
 *
 * <p>{@link #close} unmounts it (lazily if something still has a file open on it), and so does a shutdown hook if the
 * test JVM exits without closing it, so no mount outlives the test. Where it cannot be mounted (no root, no
 * {@code CAP_SYS_ADMIN} in a container) {@link #mount} throws {@link Unmountable} with the reason, for the test to skip
 * with.
 */
public final class SmallFileSystem implements AutoCloseable {
    private static final int BLOCK = 64 * 1024;
    private static final int PAGE = 4096;

    private final Path root;
    private final Path filler;
    private final Thread unmountOnExit;
    private boolean closed;

    /** The file system cannot be mounted here; the message says why. */
    public static final class Unmountable extends Exception {
        private static final long serialVersionUID = 1L;

        Unmountable(String message) {
            super(message);
        }
    }

    private SmallFileSystem(Path root) {
        this.root = root;
        this.filler = root.resolve("filler");
        this.unmountOnExit = new Thread(() -> unmount(true), "tmpfs-" + root.getFileName() + "-unmount");
        Runtime.getRuntime().addShutdownHook(unmountOnExit);
    }

    /**
     * Mounts a tmpfs of {@code sizeBytes} (rounded up to whole pages by the kernel) on {@code dir}, created if
     * needed and empty.
     *
     * @throws Unmountable when this machine does not let the test mount it
     */
    public static SmallFileSystem mount(Path dir, long sizeBytes) throws IOException, Unmountable {
        Path root = dir.toAbsolutePath().normalize();
        Files.createDirectories(root);
        Result r = run("mount", "-t", "tmpfs", "-o", "size=" + sizeBytes + ",mode=0755", "tmpfs", root.toString());
        if (r.exit != 0) {
            throw new Unmountable("cannot mount a " + sizeBytes + "-byte tmpfs on " + root + " (needs root and"
                    + " CAP_SYS_ADMIN): mount exited " + r.exit + ": " + r.output.trim());
        }
        return new SmallFileSystem(root);
    }

    /** The mount point. */
    public Path root() {
        return root;
    }

    /** Bytes an unprivileged writer may still write ({@code statvfs} f_bavail). */
    public long usable() throws IOException {
        return Files.getFileStore(root).getUsableSpace();
    }

    /**
     * Grows or shrinks the filler file until {@code bytes} are usable, as close as the file system's blocks allow
     * (never more than {@code bytes}), or until the file system refuses to give more (ENOSPC: then nothing is left).
     * Others writing meanwhile move the figure; the result is what was usable when it returned.
     */
    public long leaveFree(long bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(filler, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            long usable = usable();
            if (usable < bytes) {
                // free the difference and a page more (a truncated partial page stays allocated); refilled below
                ch.truncate(Math.max(0, ch.size() - (bytes - usable) - PAGE));
                usable = usable();
            }
            ByteBuffer block = ByteBuffer.wrap(new byte[BLOCK]);
            while (usable > bytes) {
                block.clear().limit((int) Math.min(BLOCK, usable - bytes));
                try {
                    while (block.hasRemaining()) {
                        ch.write(block, ch.size());
                    }
                } catch (IOException e) {
                    if (String.valueOf(e.getMessage()).contains("No space left")) {
                        break;
                    }
                    throw e;
                }
                usable = usable();
            }
            ch.force(true);
        }
        return usable();
    }

    /** Removes the filler: the space it took is usable again. */
    public void removeFiller() throws IOException {
        Files.deleteIfExists(filler);
    }

    /** Unmounts (lazily if still busy: the kernel detaches it now and frees it when the last file is closed). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        try {
            unmount(false);
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(unmountOnExit);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or about to
            }
        }
    }

    private synchronized void unmount(boolean atExit) {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (run("umount", root.toString()).exit != 0) {
                Result lazy = run("umount", "-l", root.toString());
                if (lazy.exit != 0 && !atExit) {
                    throw new IllegalStateException("cannot unmount the tmpfs on " + root + ": " + lazy.output.trim());
                }
            }
        } catch (IOException e) {
            if (!atExit) {
                throw new IllegalStateException("cannot unmount the tmpfs on " + root + ": " + e, e);
            }
        }
    }

    private record Result(int exit, String output) {
    }

    private static Result run(String... command) throws IOException {
        Process p;
        try {
            p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        } catch (IOException e) {
            return new Result(127, command[0] + ": " + e.getMessage());
        }
        try {
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(124, String.join(" ", command) + ": did not finish within 30 s");
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("interrupted while running " + String.join(" ", command), e);
        }
    }
}
