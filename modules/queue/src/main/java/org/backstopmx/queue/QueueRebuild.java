package org.backstopmx.queue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.SQLException;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code backstop queue rebuild}: a new database built from the spool files alone, for a database that is damaged or
 * lost ({@link DatabaseGuard} refuses to start on it). Run with the appliance stopped (it takes the queue's exclusive
 * lock). Every complete spool file becomes a queued message again, all its recipients QUEUED and due at once; what
 * the old database knew beyond that (attempts, deferrals, held messages, recipients already delivered) is gone, so a
 * recipient may get a message a second time, never lose one. The old database file is not deleted: it is moved to
 * {@code quarantine/}. Incomplete spool files (never acknowledged) are removed; unreadable ones are quarantined.
 */
public final class QueueRebuild {
    private static final Logger LOG = LoggerFactory.getLogger(QueueRebuild.class);
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);

    /**
     * What a rebuild does (or did).
     *
     * @param database      the database file set aside, or null when there was none
     * @param restore       the messages queued again, oldest first
     * @param incomplete    spool files without an end marker, removed
     * @param unreadable    spool files moved to quarantine, with the reason
     * @param databaseMovedTo where the old database went (null for a dry run, or when there was none)
     */
    public record Plan(Path queueDir, Path database, List<Envelope> restore, List<QueueId> incomplete,
            Map<QueueId, String> unreadable, Path databaseMovedTo) {

        public long recipients() {
            return restore.stream().mapToLong(e -> e.recipients().size()).sum();
        }
    }

    private QueueRebuild() {
    }

    /** What {@link #run} would do, changing nothing. */
    public static Plan plan(Path queueDir) throws QueueException {
        Path dir = queueDir.toAbsolutePath().normalize();
        try (QueueLock lock = QueueLock.exclusive(dir)) {
            return survey(dir);
        } catch (IOException e) {
            throw new QueueException(QueueException.Kind.STORAGE_ERROR, "cannot read the spool in " + dir + ": " + e, e);
        }
    }

    /** Sets the database aside and builds a new one from the spool files. */
    public static Plan run(Path queueDir, Clock clock) throws QueueException {
        Path dir = queueDir.toAbsolutePath().normalize();
        try (QueueLock lock = QueueLock.exclusive(dir)) {
            Plan plan = survey(dir);
            Spool spool = Spool.open(dir);
            Quarantine quarantine = Quarantine.of(dir);
            Path moved = null;
            if (plan.database() != null) {
                moved = setAside(dir, quarantine, clock);
            }
            DatabaseGuard.forget(dir);
            Compactor.cleanUp(dir.resolve(QueueDatabase.FILE_NAME));
            for (QueueId id : plan.incomplete()) {
                spool.delete(id);
            }
            for (Map.Entry<QueueId, String> e : plan.unreadable().entrySet()) {
                quarantine.move(spool.fileFor(e.getKey()), e.getValue());
            }
            QueueDatabase db = QueueDatabase.open(dir);
            try {
                db.read(c -> SchemaMigrator.migrate(c, clock));
                StartupRecovery.insert(db, plan.restore(), clock.instant());
                db.checked();
            } finally {
                db.close();
            }
            for (Envelope e : plan.restore()) {
                MessageLog.restored(e);
            }
            LOG.info("queue rebuild: {} messages ({} recipients) queued again from their spool files; {} incomplete"
                    + " spool files removed; {} quarantined; old database {}", plan.restore().size(), plan.recipients(),
                    plan.incomplete().size(), plan.unreadable().size(), moved == null ? "none" : "moved to " + moved);
            return new Plan(plan.queueDir(), plan.database(), plan.restore(), plan.incomplete(), plan.unreadable(),
                    moved);
        } catch (IOException | SQLException e) {
            throw new QueueException(QueueException.Kind.STORAGE_ERROR, "queue rebuild in " + dir + " failed: " + e
                    + "; nothing was deleted: run it again once the cause is fixed", e);
        }
    }

    private static Plan survey(Path dir) throws IOException {
        Spool spool = Spool.existing(dir);
        List<Envelope> restore = new ArrayList<>();
        List<QueueId> incomplete = new ArrayList<>();
        Map<QueueId, String> unreadable = new LinkedHashMap<>();
        List<QueueId> ids = spool.allIds();
        ids.sort(null);
        for (QueueId id : ids) {
            SpoolFile.Contents contents = SpoolFile.read(spool.fileFor(id));
            if (contents instanceof SpoolFile.Complete c) {
                restore.add(c.envelope());
            } else if (contents instanceof SpoolFile.Incomplete) {
                incomplete.add(id);
            } else if (contents instanceof SpoolFile.Legacy) {
                unreadable.put(id, "a body written by an earlier release: its envelope is only in the old database");
            } else {
                unreadable.put(id, ((SpoolFile.Unreadable) contents).why());
            }
        }
        Path db = dir.resolve(QueueDatabase.FILE_NAME);
        return new Plan(dir, Files.exists(db) ? db : null, restore, incomplete, unreadable, null);
    }

    private static Path setAside(Path dir, Quarantine quarantine, Clock clock) throws IOException {
        Path db = dir.resolve(QueueDatabase.FILE_NAME);
        Path named = dir.resolve(QueueDatabase.BASE_NAME + "-" + STAMP.format(clock.instant()) + ".mv.db");
        Files.move(db, named, StandardCopyOption.ATOMIC_MOVE);
        Spool.fsyncDirectory(dir);
        return quarantine.move(named, "set aside by queue rebuild");
    }
}
