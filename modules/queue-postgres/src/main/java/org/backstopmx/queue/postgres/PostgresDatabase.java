package org.backstopmx.queue.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.backstopmx.core.QueueException;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pool of connections to the shared database, the schema's migrations, and the transactions the queue runs.
 *
 * <p>Every connection commits with {@code synchronous_commit = on} whatever the server's default (a commit returns
 * once the WAL is flushed, and on a server with synchronous standbys once they have it too): a message's commit
 * returns only then, and only then may the SMTP side answer 250. Work that only moves a schedule (claims, give-backs,
 * flushes) commits with {@code synchronous_commit = off}, as the H2 queue does not wait for the disk for it: losing
 * it in a crash of the database loses no mail.
 *
 * <p>Failure modes: a connection that cannot be had within {@link #CONNECTION_TIMEOUT_MS} (the database is down or
 * unreachable) and any other SQL error become a {@link QueueException}: {@code STORAGE_FULL} when the database's disk
 * is full (SQLSTATE 53100), {@code UNAVAILABLE} when the connection failed (class 08, 57P01-03, or no connection), otherwise
 * {@code STORAGE_ERROR}; the SMTP side answers 452/451, never 250. The pool reconnects by itself when the database is
 * back, so no restart is needed.
 *
 * <p>A database whose packets are dropped (a network partition: nothing is refused, nothing answers) would hang a
 * call until TCP gives up, minutes to hours later. Every wait on the database is bounded instead, and each bound is
 * chosen against the SMTP timeouts a sender applies to us (RFC 5321 §4.5.3.2: 5 minutes for MAIL, 10 for the end of
 * DATA), so a sender always hears {@code 451 4.3.0} from us rather than timing out: a connection is had within
 * {@link #CONNECTION_TIMEOUT_MS} or refused (a pooled one is checked within {@link #VALIDATION_TIMEOUT_MS} when it was
 * idle, a new one must connect within {@link #CONNECT_TIMEOUT_S} and log in within {@link #LOGIN_TIMEOUT_S}); a
 * statement's reply must arrive within {@link #SOCKET_TIMEOUT_S}; idle connections are checked every
 * {@link #KEEPALIVE_MS}, so a partition is found on them too, and none lives longer than {@link #MAX_LIFETIME_MS}, so
 * that after a failover that moved the database's address every connection goes to the new one. The readiness check
 * waits {@link #PROBE_TIMEOUT_MS} at most for its reply.
 */
final class PostgresDatabase implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PostgresDatabase.class);
    /** How long a caller waits for a connection before it is told the queue is unavailable. */
    static final long CONNECTION_TIMEOUT_MS = 5_000;
    /** How long a pooled connection idle for more than half a second may take to prove it is alive when lent. */
    static final long VALIDATION_TIMEOUT_MS = 2_000;
    /**
     * The longest a statement's reply may take before its connection is given up: above any statement the queue runs
     * (a 256 KiB chunk, a durable commit, the per-domain figures of a large backlog take well under a second), far
     * below the 5 minutes a sender waits for our reply to MAIL.
     */
    static final int SOCKET_TIMEOUT_S = 30;
    /** TCP connect to the database server. */
    static final int CONNECT_TIMEOUT_S = 5;
    /** Connect, the startup packet and authentication together. */
    static final int LOGIN_TIMEOUT_S = 5;
    /** How often an idle connection is checked (the pool's minimum). */
    static final long KEEPALIVE_MS = 30_000;
    /** The longest any connection is kept. */
    static final long MAX_LIFETIME_MS = 15 * 60_000;
    /** The readiness check's wait for its {@code SELECT 1}. */
    static final int PROBE_TIMEOUT_MS = 2_000;
    /**
     * The longest one transaction (or one body chunk's write while a message is received) may run before its
     * connection is aborted ({@link Watchdog}): a statement's reply has {@link #SOCKET_TIMEOUT_S}, and this catches a
     * write that blocks, which no socket timeout bounds.
     */
    static final Duration USE_LIMIT = Duration.ofSeconds(SOCKET_TIMEOUT_S + 15);
    /** Where the migrations are: not Flyway's default {@code db/migration}, which is the H2 queue's. */
    static final String MIGRATIONS = "classpath:org/backstopmx/queue/postgres/migration";

    /** Work on a connection the caller's transaction owns. */
    interface SqlWork<T> {
        T run(Connection c) throws SQLException;
    }

    private final HikariDataSource pool;
    private final Watchdog watchdog;

    private PostgresDatabase(HikariDataSource pool, Watchdog watchdog) {
        this.pool = pool;
        this.watchdog = watchdog;
    }

    /** Connects, and migrates the schema to the newest version (the first node to get Flyway's lock does it). */
    static PostgresDatabase open(PostgresSettings settings) throws QueueException {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(settings.url());
        config.setUsername(settings.username());
        config.setPassword(settings.password());
        config.setMaximumPoolSize(settings.poolSize());
        config.setMinimumIdle(2);
        config.setPoolName("queue-" + settings.nodeId());
        config.setAutoCommit(false);
        config.setConnectionTimeout(CONNECTION_TIMEOUT_MS);
        config.setValidationTimeout(VALIDATION_TIMEOUT_MS);
        config.setKeepaliveTime(KEEPALIVE_MS);
        config.setMaxLifetime(MAX_LIFETIME_MS);
        // in the startup packet, not as an init statement: that would leave each new connection inside a transaction
        config.addDataSourceProperty("options", "-c synchronous_commit=on");
        // a database that stops answering (a partition) must not hang a session for ever: see the class description
        config.addDataSourceProperty("socketTimeout", Integer.toString(SOCKET_TIMEOUT_S));
        config.addDataSourceProperty("connectTimeout", Integer.toString(CONNECT_TIMEOUT_S));
        config.addDataSourceProperty("loginTimeout", Integer.toString(LOGIN_TIMEOUT_S));
        // the kernel's keepalive on top: it ends a dead idle connection that the pool has not checked yet
        config.addDataSourceProperty("tcpKeepAlive", "true");
        config.addDataSourceProperty("ApplicationName", "backstop " + settings.nodeId());
        HikariDataSource pool;
        try {
            pool = new HikariDataSource(config);
        } catch (RuntimeException e) {
            throw new QueueException(QueueException.Kind.UNAVAILABLE, "cannot connect to the queue database "
                    + settings.url() + ": " + e.getMessage(), e);
        }
        try {
            // not through the pool: a migration may build an index on a large table for longer than SOCKET_TIMEOUT_S
            var result = Flyway.configure().dataSource(settings.url(), settings.username(), settings.password())
                    .locations(MIGRATIONS).load().migrate();
            if (result.migrationsExecuted > 0) {
                LOG.info("queue database {}: schema migrated to version {} ({} migrations)", settings.url(),
                        result.targetSchemaVersion, result.migrationsExecuted);
            }
        } catch (RuntimeException e) {
            pool.close();
            throw new QueueException(QueueException.Kind.STORAGE_ERROR, "cannot migrate the queue database "
                    + settings.url() + ": " + e.getMessage(), e);
        }
        return new PostgresDatabase(pool, new Watchdog("queue-db-watchdog-" + settings.nodeId(), USE_LIMIT));
    }

    /** Runs {@code work} in one transaction and commits it durably. */
    <T> T transaction(SqlWork<T> work) throws SQLException {
        try (Connection c = pool.getConnection()) {
            return inTransaction(c, work);
        }
    }

    /** As {@link #transaction}, without waiting for the WAL flush: for changes that only move a schedule. */
    <T> T scheduleChange(SqlWork<T> work) throws SQLException {
        try (Connection c = pool.getConnection()) {
            return inTransaction(c, conn -> {
                try (Statement s = conn.createStatement()) {
                    s.execute("SET LOCAL synchronous_commit = off");
                }
                return work.run(conn);
            });
        }
    }

    /** Reads in a transaction of its own (one snapshot for the whole of {@code work}). */
    <T> T read(SqlWork<T> work) throws SQLException {
        return transaction(work);
    }

    /** A connection in a transaction of the caller's, for a message being received; close it to give it back. */
    Connection borrow() throws SQLException {
        return pool.getConnection();
    }

    /** Bounds one use of a {@link #borrow borrowed} connection by {@link #USE_LIMIT}; close the watch after it. */
    Watchdog.Watch watch(Connection c, String what) {
        return watchdog.watch(c, what);
    }

    /** Asks the database for {@code SELECT 1}, waiting at most {@link #PROBE_TIMEOUT_MS} for the answer. */
    void probe() throws SQLException {
        try (Connection c = pool.getConnection()) {
            c.setNetworkTimeout(Runnable::run, PROBE_TIMEOUT_MS); // the pool puts the usual one back when it is returned
            inTransaction(c, conn -> {
                try (Statement s = conn.createStatement()) {
                    s.execute("SELECT 1");
                }
                return null;
            });
        }
    }

    /** Connections in use now. */
    int activeConnections() {
        var bean = pool.getHikariPoolMXBean();
        return bean == null ? 0 : bean.getActiveConnections();
    }

    @Override
    public void close() {
        pool.close();
        watchdog.close();
    }

    private <T> T inTransaction(Connection c, SqlWork<T> work) throws SQLException {
        try (Watchdog.Watch w = watchdog.watch(c, "a transaction")) {
            T result = work.run(c);
            c.commit();
            return result;
        } catch (SQLException | RuntimeException e) {
            try {
                c.rollback();
            } catch (SQLException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** What a failed database call means for the caller (see the class description). */
    static QueueException failure(String what, Exception e) {
        if (e instanceof QueueException) {
            return (QueueException) e;
        }
        return new QueueException(kindOf(e), what + ": " + e.getMessage(), e);
    }

    static QueueException.Kind kindOf(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.sql.SQLTransientConnectionException) {
                return QueueException.Kind.UNAVAILABLE;
            }
            if (t instanceof SQLException) {
                String state = ((SQLException) t).getSQLState();
                if ("53100".equals(state)) {
                    return QueueException.Kind.STORAGE_FULL;
                }
                // class 08: the connection failed; 57P01-03: the server is shutting down, crashed or starting up
                if (state != null && (state.startsWith("08") || state.startsWith("57P"))) {
                    return QueueException.Kind.UNAVAILABLE;
                }
            }
        }
        return QueueException.Kind.STORAGE_ERROR;
    }
}
