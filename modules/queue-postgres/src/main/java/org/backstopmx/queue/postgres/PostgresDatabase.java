package org.backstopmx.queue.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
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
 */
final class PostgresDatabase implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PostgresDatabase.class);
    /** How long a caller waits for a connection before it is told the queue is unavailable. */
    static final long CONNECTION_TIMEOUT_MS = 5_000;
    /** Where the migrations are: not Flyway's default {@code db/migration}, which is the H2 queue's. */
    static final String MIGRATIONS = "classpath:org/backstopmx/queue/postgres/migration";

    /** Work on a connection the caller's transaction owns. */
    interface SqlWork<T> {
        T run(Connection c) throws SQLException;
    }

    private final HikariDataSource pool;

    private PostgresDatabase(HikariDataSource pool) {
        this.pool = pool;
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
        // in the startup packet, not as an init statement: that would leave each new connection inside a transaction
        config.addDataSourceProperty("options", "-c synchronous_commit=on");
        // a database that stops answering (a partition) must not hang a session for ever
        config.addDataSourceProperty("socketTimeout", "60");
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
            var result = Flyway.configure().dataSource(pool).locations(MIGRATIONS).load().migrate();
            if (result.migrationsExecuted > 0) {
                LOG.info("queue database {}: schema migrated to version {} ({} migrations)", settings.url(),
                        result.targetSchemaVersion, result.migrationsExecuted);
            }
        } catch (RuntimeException e) {
            pool.close();
            throw new QueueException(QueueException.Kind.STORAGE_ERROR, "cannot migrate the queue database "
                    + settings.url() + ": " + e.getMessage(), e);
        }
        return new PostgresDatabase(pool);
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

    /** Connections in use now. */
    int activeConnections() {
        var bean = pool.getHikariPoolMXBean();
        return bean == null ? 0 : bean.getActiveConnections();
    }

    @Override
    public void close() {
        pool.close();
    }

    private static <T> T inTransaction(Connection c, SqlWork<T> work) throws SQLException {
        try {
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
