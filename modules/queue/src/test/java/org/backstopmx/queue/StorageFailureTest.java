package org.backstopmx.queue;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.SQLException;
import org.backstopmx.core.QueueException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading "disk full" out of the exception chains H2 builds, cycles included. */
class StorageFailureTest {
    @TempDir
    Path dir;

    /**
     * The shape H2 builds when a write fails: the store's exception is the cause of the SQL one, and the SQL one is
     * added to the suppressed list of the I/O failure under both, so the chain leads back to its start.
     */
    private static SQLException cyclic(IOException bottom) {
        IllegalStateException store = new IllegalStateException("Writing to /var/lib/backstop/queue.mv.db failed",
                bottom);
        SQLException top = new SQLException("General error: \"" + store + "\"", store);
        bottom.addSuppressed(top);
        return top;
    }

    @Test
    void aCycleOfCausesAndSuppressedEndsTheWalk() throws IOException {
        SQLException top = cyclic(new IOException("Input/output error"));
        assertThat(top.getCause().getCause().getSuppressed()[0]).isSameAs(top); // a real cycle

        assertThat(StorageFailure.mentionsNoSpace(top)).isFalse();
        assertThat(StorageFailure.of("commit", top, new DiskSpace(dir, 0), 1).kind())
                .isEqualTo(QueueException.Kind.STORAGE_ERROR);
    }

    @Test
    void noSpaceBehindTheCycleIsFound() throws IOException {
        IOException bottom = new IOException("Input/output error");
        SQLException top = cyclic(bottom);
        bottom.addSuppressed(new IOException("No space left on device")); // after the way back to the top

        assertThat(StorageFailure.mentionsNoSpace(top)).isTrue();
        assertThat(StorageFailure.of("commit", top, new DiskSpace(dir, 0), 1).kind())
                .isEqualTo(QueueException.Kind.STORAGE_FULL);
    }

    @Test
    void noSpaceDeepInsideIsFound() {
        // 40 wrappers, and ENOSPC in the suppressed list of the last one's cause, behind a cycle
        IOException bottom = new IOException("Writing failed");
        Throwable t = cyclic(bottom);
        for (int i = 0; i < 40; i++) {
            t = new RuntimeException("wrapper " + i, t);
        }
        bottom.addSuppressed(new IllegalStateException("flush", new IOException("Disk quota exceeded")));

        assertThat(StorageFailure.mentionsNoSpace(t)).isTrue();
    }

    @Test
    void theWalkIsBoundedWhateverTheChain() {
        // every throwable is suppressed by all the others: without the global bound, the walk would be exponential
        Throwable[] all = new Throwable[StorageFailure.MAX_EXAMINED * 10];
        for (int i = 0; i < all.length; i++) {
            all[i] = i == 0 ? new IOException("Input/output error 0")
                    : new IOException("Input/output error " + i, all[i - 1]);
        }
        for (int i = 0; i < 50; i++) {
            for (int j = 0; j < 50; j++) {
                all[i].addSuppressed(all[all.length - 1 - j]);
            }
        }
        all[0].initCause(all[all.length - 1]); // and the end leads back to the start
        all[all.length / 2].addSuppressed(new IOException("No space left on device")); // beyond the bound

        long started = System.nanoTime();
        assertThat(StorageFailure.mentionsNoSpace(all[49])).isFalse();
        assertThat(System.nanoTime() - started).isLessThan(1_000_000_000L);
    }
}
