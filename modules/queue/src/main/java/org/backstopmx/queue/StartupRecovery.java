package org.backstopmx.queue;

import java.io.IOException;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the spool and the database agree again after a crash, before the queue accepts anything.
 *
 * <ul>
 * <li>A body file without a message row was being received, or was fsynced but its commit never happened (crash
 *     between steps 1 and 2 of {@link Enqueuer}): it was never acknowledged, so it is removed.
 * <li>A message row without its body file should never happen (bodies are fsynced first, rows are deleted before
 *     bodies). It is logged as an error and left alone: deleting mail silently is worse than a stuck message the
 *     admin can see in {@code queue list} and delete.
 * </ul>
 */
final class StartupRecovery {
    private static final Logger LOG = LoggerFactory.getLogger(StartupRecovery.class);
    private static final int MAX_LISTED = 100;

    /** What recovery found. */
    record Report(int bodies, int orphansRemoved, int messages, List<QueueId> missingBodies) {
    }

    private StartupRecovery() {
    }

    static Report run(QueueDatabase db, Spool spool) throws QueueException, SQLException, IOException {
        List<QueueId> files = spool.allIds();
        List<QueueId> orphans = db.read(c -> {
            List<QueueId> result = new ArrayList<>();
            try (PreparedStatement exists = c.prepareStatement(MessageRows.EXISTS_BY_ID)) {
                for (QueueId id : files) {
                    if (!MessageRows.exists(exists, id)) {
                        result.add(id);
                    }
                }
            }
            return result;
        });
        int removed = 0;
        for (QueueId id : orphans) {
            if (spool.delete(id)) {
                removed++;
            }
        }
        List<QueueId> messages = db.read(MessageRows::allIds);
        List<QueueId> missing = new ArrayList<>();
        for (QueueId id : messages) {
            if (!spool.exists(id)) {
                missing.add(id);
            }
        }
        LOG.info("queue recovery: {} messages, {} body files; removed {} body files that were never committed;"
                + " {} messages without a body file", messages.size(), files.size(), removed, missing.size());
        for (int i = 0; i < missing.size() && i < MAX_LISTED; i++) {
            LOG.error("{}: queued but its body file {} is missing; left in the queue for the admin to inspect or"
                    + " delete", missing.get(i), spool.fileFor(missing.get(i)));
        }
        if (missing.size() > MAX_LISTED) {
            LOG.error("queue recovery: {} more messages without a body file not listed", missing.size() - MAX_LISTED);
        }
        return new Report(files.size(), removed, messages.size(), List.copyOf(missing));
    }
}
