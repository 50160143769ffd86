package org.backstopmx.queue.postgres;

import org.backstopmx.core.MailQueue;
import org.backstopmx.testkit.MutableClock;
import org.backstopmx.testkit.contract.MailQueueContract;

/** The {@link MailQueue} contract against the PostgreSQL queue: a real server, a new database per test. */
class PostgresMailQueueContractTest extends MailQueueContract {
    private TestDatabase database;

    @Override
    protected MailQueue openEmpty(MutableClock clock) throws Exception {
        database = TestDatabase.create();
        return openAgain(clock);
    }

    @Override
    protected MailQueue openAgain(MutableClock clock) throws Exception {
        return database.open("node-a", clock);
    }
}
