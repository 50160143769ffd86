package org.backstopmx.queue;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueueStats;
import org.backstopmx.core.QueuedMessage;

/**
 * Read-only access to the queue of a stopped appliance, for {@code backstop queue list|show} without a running server.
 *
 * <p>It takes a shared lock on {@code queue.lock} and opens H2 read-only ({@code ACCESS_MODE_DATA=r}, which takes a
 * shared lock on the database file too), so while the appliance runs and holds its exclusive locks, {@link #open}
 * fails at once with UNAVAILABLE and a message pointing at the admin API; the running appliance answers those
 * questions itself. Several readers may run together. Nothing is changed: no migration, no recovery, no counters (the
 * statistics are counted by one query, which is fine for a one-off command).
 */
public final class QueueReader implements AutoCloseable {
    private final QueueLock lock;
    private final Spool spool;
    private final Connection connection;

    private QueueReader(QueueLock lock, Spool spool, Connection connection) {
        this.lock = lock;
        this.spool = spool;
        this.connection = connection;
    }

    /** Opens the queue in {@code queueDir} read-only; fails while an appliance has it open. */
    public static QueueReader open(Path queueDir) throws QueueException {
        Path dir = queueDir.toAbsolutePath().normalize();
        QueueLock lock = QueueLock.shared(dir);
        try {
            // No settings that H2 persists (such as TRACE_LEVEL_FILE, which the appliance already stored): a
            // read-only database fails at close when it has a change to write.
            Connection c = DriverManager.getConnection(QueueDatabase.url(dir) + ";ACCESS_MODE_DATA=r;IFEXISTS=TRUE",
                    QueueDatabase.USER, "");
            try {
                int version = SchemaMigrator.currentVersion(c);
                if (version != SchemaMigrator.latestVersion()) {
                    throw new QueueException(QueueException.Kind.UNAVAILABLE, "queue in " + dir + " has schema version "
                            + version + ", this Backstop reads version " + SchemaMigrator.latestVersion()
                            + "; start the appliance once to migrate it");
                }
            } catch (SQLException | QueueException | RuntimeException e) {
                c.close();
                throw e;
            }
            return new QueueReader(lock, Spool.existing(dir), c);
        } catch (SQLException e) {
            lock.close();
            if (e.getErrorCode() == 90020) {
                throw new QueueException(QueueException.Kind.UNAVAILABLE,
                        "queue in " + dir + " is open in a running appliance; use its admin API", e);
            }
            throw new QueueException(QueueException.Kind.STORAGE_ERROR, "cannot read the queue in " + dir + ": " + e, e);
        } catch (QueueException | RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    public synchronized List<QueuedMessage> list(int limit) throws QueueException {
        try {
            return MessageRows.list(connection, limit);
        } catch (SQLException e) {
            throw failed("list", e);
        }
    }

    public synchronized Optional<QueuedMessage> find(QueueId id) throws QueueException {
        try {
            return MessageRows.find(connection, id);
        } catch (SQLException e) {
            throw failed("find " + id, e);
        }
    }

    public synchronized Optional<Envelope> envelope(QueueId id) throws QueueException {
        try {
            return MessageRows.envelope(connection, id);
        } catch (SQLException e) {
            throw failed("envelope " + id, e);
        }
    }

    public synchronized QueueStats stats() throws QueueException {
        try {
            QueueCounters counters = new QueueCounters();
            counters.load(connection);
            return counters.snapshot();
        } catch (SQLException e) {
            throw failed("stats", e);
        }
    }

    /** As {@link H2MailQueue#domainSnapshot()}: recipients by domain and state, oldest pending message per domain. */
    public synchronized H2MailQueue.DomainSnapshot domainSnapshot() throws QueueException {
        try {
            QueueCounters counters = new QueueCounters();
            counters.load(connection); // a grouped scan: the reader keeps no counters
            return AdminRows.domainSnapshot(connection, counters.byDomain(), null);
        } catch (SQLException e) {
            throw failed("domain snapshot", e);
        }
    }

    public InputStream openBody(QueueId id) throws QueueException {
        try {
            return new BufferedInputStream(spool.open(id), 64 * 1024);
        } catch (NoSuchFileException e) {
            throw new QueueException(QueueException.Kind.STORAGE_ERROR, id + ": no body in the queue", e);
        } catch (IOException e) {
            throw new QueueException(QueueException.Kind.STORAGE_ERROR, id + ": cannot open the body: " + e, e);
        }
    }

    private static QueueException failed(String what, SQLException e) {
        return new QueueException(QueueException.Kind.STORAGE_ERROR, "queue: " + what + " failed: " + e, e);
    }

    @Override
    public synchronized void close() {
        try (java.sql.Statement s = connection.createStatement()) {
            // closes the read-only database at once, so that this JVM can open it for writing right after (H2 would
            // otherwise hand a later connection the read-only instance while it lingers)
            s.execute("SHUTDOWN");
        } catch (SQLException ignored) {
            // already closed: nothing to lose
        }
        try {
            connection.close();
        } catch (SQLException ignored) {
            // read-only: nothing to lose
        } finally {
            lock.close();
        }
    }
}
