package org.backstopmx.queue;

import java.nio.file.Path;
import org.backstopmx.testkit.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real H2 queue in a fresh directory on a mutable clock, opened before each test and closed after it: what the
 * tests of the queue's receiving, delivering and admin sides share. It lives here and not in {@code testkit}:
 * {@code testkit} is a test dependency of this module, so it cannot depend on {@link H2MailQueue} without a cycle,
 * and every test that opens an {@code H2MailQueue} is in this module.
 */
abstract class H2QueueFixture {
    @TempDir
    Path dir;
    final MutableClock clock;
    H2MailQueue queue;

    H2QueueFixture() {
        this("2026-03-01T10:00:00Z");
    }

    H2QueueFixture(String clockStart) {
        clock = MutableClock.startingAt(clockStart);
    }

    @BeforeEach
    void open() throws Exception {
        queue = H2MailQueue.open(TestMessages.config(dir), TestMessages.MAX_MESSAGE_SIZE, clock);
    }

    @AfterEach
    void close() {
        queue.close();
    }

    /** Closes the queue and opens it again on the same directory, as a restart does. */
    void reopen() throws Exception {
        queue.close();
        queue = H2MailQueue.open(TestMessages.config(dir), TestMessages.MAX_MESSAGE_SIZE, clock);
    }
}
