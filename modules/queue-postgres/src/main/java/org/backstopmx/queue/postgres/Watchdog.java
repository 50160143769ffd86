package org.backstopmx.queue.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds each use of a database connection, writes included: the driver's socket timeout bounds only the wait for a
 * reply, and a write into a connection whose packets are dropped blocks until TCP gives up (about 15 minutes on
 * Linux), longer than a sender waits for our reply. A use still running after the limit has its connection aborted
 * (its socket closed), which ends the blocked call with a connection failure; the pool then discards the connection.
 *
 * <p>One timer thread per pool; a watch costs one scheduled task, cancelled when the use ends.
 */
final class Watchdog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Watchdog.class);
    /** Aborting closes a socket: quick, and safe to run on the timer's thread. */
    private static final Executor INLINE = Runnable::run;

    /** One use being watched; closing it ends the watch. */
    interface Watch extends AutoCloseable {
        @Override
        void close();
    }

    private final Duration limit;
    private final ScheduledThreadPoolExecutor timer;

    Watchdog(String name, Duration limit) {
        this.limit = limit;
        this.timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
    }

    /** Watches {@code c} from now until the returned watch is closed; {@code what} names the use in the log. */
    Watch watch(Connection c, String what) {
        ScheduledFuture<?> f = timer.schedule(() -> abort(c, what), limit.toMillis(), TimeUnit.MILLISECONDS);
        return () -> f.cancel(false);
    }

    private void abort(Connection c, String what) {
        LOG.warn("queue database: {} still waits after {} s (the database stopped answering: a network partition?);"
                + " its connection is dropped", what, limit.toSeconds());
        try {
            c.abort(INLINE);
        } catch (SQLException | RuntimeException e) {
            LOG.debug("queue database: abort of a connection failed: {}", e.toString());
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
