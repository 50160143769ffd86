package org.backstopmx.queue;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the database agree with the spool again after a crash, before the queue accepts anything. The spool file is
 * the record of acceptance ({@link SpoolFile}); the database is the schedule and the index, so where they disagree
 * the spool wins:
 *
 * <ul>
 * <li>A complete spool file without a message row: the message was accepted (or its commit was under way when the
 *     process died) and the database does not have it. It is <em>re-inserted</em> from its envelope, every recipient
 *     QUEUED and due now. At-least-once: a sender whose session died before its 250 may send it again, one duplicate,
 *     never a loss. Each is logged ({@code restored}) and counted.
 * <li>A spool file without its end marker was still being written (a session cut during DATA, a crash before the
 *     commit): never acknowledged, so it is removed, and counted. This is the only kind of file recovery removes.
 * <li>A spool file that cannot be read (envelope damaged), or a body of an earlier release that has no rows (its
 *     envelope is not in the file): moved to {@code quarantine/} with a log line, never deleted.
 * <li>A message row without its spool file should never happen (a file is complete before its rows are committed,
 *     rows are deleted before files). It is logged as an error and left alone: the admin sees it in
 *     {@code queue list} and deletes it.
 * </ul>
 */
final class StartupRecovery {
    private static final Logger LOG = LoggerFactory.getLogger(StartupRecovery.class);
    private static final int MAX_LISTED = 100;
    private static final int INSERT_BATCH = 500;

    /** What recovery found and did. */
    record Report(int spoolFiles, int messages, int restored, int incompleteRemoved, int quarantined,
            List<QueueId> missingFiles) {
    }

    private StartupRecovery() {
    }

    static Report run(QueueDatabase db, Spool spool, Quarantine quarantine, Instant now)
            throws QueueException, SQLException, IOException {
        List<QueueId> files = spool.allIds();
        List<QueueId> withoutRows = db.read(c -> withoutRows(c, files));
        List<Envelope> restore = new ArrayList<>();
        int removed = 0;
        int quarantined = 0;
        for (QueueId id : withoutRows) {
            SpoolFile.Contents contents = SpoolFile.read(spool.fileFor(id));
            if (contents instanceof SpoolFile.Complete complete) {
                restore.add(complete.envelope());
            } else if (contents instanceof SpoolFile.Incomplete) {
                if (spool.delete(id)) {
                    removed++;
                }
            } else if (contents instanceof SpoolFile.Legacy) {
                quarantine.move(spool.fileFor(id), "a body without an envelope (written by an earlier release) and"
                        + " without database rows: it cannot be queued again");
                quarantined++;
            } else {
                quarantine.move(spool.fileFor(id), ((SpoolFile.Unreadable) contents).why());
                quarantined++;
            }
        }
        insert(db, restore, now);
        for (Envelope e : restore) {
            MessageLog.restored(e);
        }
        List<QueueId> messages = db.read(MessageRows::allIds);
        List<QueueId> missing = new ArrayList<>();
        for (QueueId id : messages) {
            if (!spool.exists(id)) {
                missing.add(id);
            }
        }
        LOG.info("queue recovery: {} messages, {} spool files; restored {} messages from spool files the database"
                + " did not have; removed {} incomplete spool files (never acknowledged); quarantined {}; {} messages"
                + " without a spool file", messages.size(), files.size(), restore.size(), removed, quarantined,
                missing.size());
        for (int i = 0; i < missing.size() && i < MAX_LISTED; i++) {
            LOG.error("{}: queued but its spool file {} is missing; left in the queue for the admin to inspect or"
                    + " delete", missing.get(i), spool.fileFor(missing.get(i)));
        }
        if (missing.size() > MAX_LISTED) {
            LOG.error("queue recovery: {} more messages without a spool file not listed", missing.size() - MAX_LISTED);
        }
        return new Report(files.size(), messages.size(), restore.size(), removed, quarantined, List.copyOf(missing));
    }

    private static List<QueueId> withoutRows(Connection c, List<QueueId> files) throws SQLException {
        List<QueueId> result = new ArrayList<>();
        try (PreparedStatement exists = c.prepareStatement(MessageRows.EXISTS_BY_ID)) {
            for (QueueId id : files) {
                if (!MessageRows.exists(exists, id)) {
                    result.add(id);
                }
            }
        }
        return result;
    }

    /** Inserts the envelopes, every recipient QUEUED and due {@code now}, in batches; fsynced before it returns. */
    static void insert(QueueDatabase db, List<Envelope> envelopes, Instant now) throws QueueException, SQLException {
        for (int from = 0; from < envelopes.size(); from += INSERT_BATCH) {
            List<Envelope> batch = envelopes.subList(from, Math.min(envelopes.size(), from + INSERT_BATCH));
            db.transaction(c -> {
                for (Envelope e : batch) {
                    MessageRows.insert(c, e, e.size(), now);
                }
                return null;
            });
        }
        if (!envelopes.isEmpty()) {
            db.sync();
        }
    }
}
