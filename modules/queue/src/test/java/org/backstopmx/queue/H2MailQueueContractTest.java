package org.backstopmx.queue;

import java.nio.file.Path;
import org.backstopmx.core.MailQueue;
import org.backstopmx.testkit.MutableClock;
import org.backstopmx.testkit.contract.MailQueueContract;
import org.junit.jupiter.api.io.TempDir;

/** The {@link MailQueue} contract against the H2 queue, in a fresh directory per test. */
class H2MailQueueContractTest extends MailQueueContract {
    @TempDir
    Path dir;

    @Override
    protected MailQueue openEmpty(MutableClock clock) throws Exception {
        return openAgain(clock);
    }

    @Override
    protected MailQueue openAgain(MutableClock clock) throws Exception {
        return H2MailQueue.open(TestMessages.config(dir), TestMessages.MAX_MESSAGE_SIZE, clock);
    }
}
