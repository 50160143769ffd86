package org.backstopmx.queue.postgres;

import java.time.Clock;
import org.backstopmx.core.QueueException;
import org.backstopmx.testkit.PostgresServer;

/**
 * One real PostgreSQL for the whole test run (started on first use, stopped and removed by its shutdown hook when the JVM exits), and a new database
 * in it for each test that asks: starting a cluster costs seconds, a database a fraction of one.
 */
final class TestDatabase {
    private static PostgresServer server;

    private final String url;

    private TestDatabase(String url) {
        this.url = url;
    }

    /** A new, empty database. */
    static synchronized TestDatabase create() {
        if (server == null) {
            server = PostgresServer.start();
        }
        return new TestDatabase(server.jdbcUrl(server.createDatabase()));
    }

    /**
     * Stops and removes the server now: for a {@code main} run inside Maven ({@code exec:java}), whose class loader
     * may be gone by the time the shutdown hook runs.
     */
    static synchronized void stopServer() {
        if (server != null) {
            server.close();
            server = null;
        }
    }

    static synchronized PostgresServer server() {
        return server;
    }

    PostgresSettings settings(String node) {
        return new PostgresSettings(url, PostgresServer.USER, null, node, 6);
    }

    PostgresMailQueue open(String node, Clock clock) throws QueueException {
        return PostgresMailQueue.open(settings(node), clock);
    }
}
