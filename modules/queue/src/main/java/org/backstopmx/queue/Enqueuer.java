package org.backstopmx.queue;

import java.io.IOException;
import java.io.SyncFailedException;
import java.nio.channels.FileChannel;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable append: turns a received body plus its envelope into a queued message, or into nothing at all.
 *
 * <p>Order of the commit, and why:
 * <ol>
 * <li>append the envelope and the end marker to the spool file and {@code fsync} it - the file is the record of the
 *     acceptance, complete on disk before any row points at it (recovery re-inserts a complete file the database
 *     lacks);
 * <li>hand the rows to the group commit, which fsyncs the spool directory (the file's name), inserts the rows of its
 *     whole group in one transaction, commits, and fsyncs the database; only then may the SMTP side answer 250;
 * <li>count and log the message, and tell maintenance that the database file grew.
 * </ol>
 * A failure in 1 deletes the file. A failure in 2 deletes the rows if they were committed, then the file; if even the
 * rows cannot be deleted the file is kept, because a row without its body is the one state startup recovery cannot
 * repair.
 */
final class Enqueuer {
    private static final Logger LOG = LoggerFactory.getLogger(Enqueuer.class);

    private final Spool spool;
    private final QueueDatabase db;
    private final GroupCommit groupCommit;
    private final QueueCounters counters;
    private final DiskSpace disk;
    private final Clock clock;
    private final Lifecycle lifecycle;
    private final java.util.function.IntConsumer afterWrite;
    private final Set<IncomingSpoolMessage> receiving = ConcurrentHashMap.newKeySet();
    private volatile MailQueue.ArrivalListener arrivalListener;

    Enqueuer(Spool spool, QueueDatabase db, GroupCommit groupCommit, QueueCounters counters, DiskSpace disk,
            Clock clock, Lifecycle lifecycle, java.util.function.IntConsumer afterWrite) {
        this.spool = spool;
        this.db = db;
        this.groupCommit = groupCommit;
        this.counters = counters;
        this.disk = disk;
        this.clock = clock;
        this.lifecycle = lifecycle;
        this.afterWrite = afterWrite;
    }

    IncomingSpoolMessage receive(QueueId id) throws QueueException {
        lifecycle.enter(id + ": receive");
        try {
            FileChannel channel;
            try {
                channel = spool.create(id);
            } catch (IOException e) {
                throw StorageFailure.of(id + ": cannot create the body file", e, disk, 1);
            }
            IncomingSpoolMessage message = new IncomingSpoolMessage(id, spool.fileFor(id), channel, this);
            receiving.add(message);
            return message;
        } finally {
            lifecycle.exit();
        }
    }

    void enqueue(IncomingSpoolMessage message, Envelope envelope) throws QueueException {
        QueueId id = message.id();
        try {
            if (!lifecycle.tryEnter()) {
                message.discard();
                throw StorageFailure.unavailable(id + ": commit");
            }
            try {
                append(message, envelope);
            } finally {
                lifecycle.exit();
            }
        } finally {
            receiving.remove(message);
        }
    }

    private void append(IncomingSpoolMessage message, Envelope envelope) throws QueueException {
        QueueId id = message.id();
        Envelope stored;
        try {
            stored = message.seal(envelope);
        } catch (IOException e) {
            message.discard();
            throw StorageFailure.of(id + ": cannot write the spool file", e, disk, 1);
        }
        long size = stored.size();
        if (size != envelope.size()) {
            // The file is the truth and is what gets stored; a difference means the SMTP side counts wrongly.
            LOG.warn("{}: envelope says {} bytes, the body in the spool file has {}; storing {}", id, envelope.size(),
                    size, size);
        }
        try {
            // the rows are inserted by the group commit, in one transaction with the other messages of its group
            groupCommit.awaitStored(spool.directoryFor(id), id.value(), c -> {
                MailQueue.ArrivalListener l = arrivalListener;
                MessageRows.insert(c, stored, size, clock.instant(), l == null ? null : l::firstAttempt);
                return null;
            });
        } catch (SyncFailedException | QueueException e) {
            undo(message);
            throw e instanceof QueueException ? (QueueException) e
                    : StorageFailure.of(id + ": cannot store the message durably", e, disk, 1);
        }
        counters.added(size, envelope.recipients().stream().map(EnvelopeRecipient::domain).toList());
        MessageLog.received(stored, size);
        afterWrite.accept(1 + envelope.recipients().size());
        MailQueue.ArrivalListener listener = arrivalListener;
        if (listener != null) {
            try {
                listener.arrived(stored);
            } catch (RuntimeException e) {
                LOG.warn("{}: arrival listener failed", id, e); // the message is queued all the same
            }
        }
    }

    private void undo(IncomingSpoolMessage message) {
        try {
            db.transaction(c -> MessageRows.delete(c, message.id()));
        } catch (SQLException | QueueException | RuntimeException e) {
            LOG.error("{}: the message could not be made durable and its rows could not be removed; its body file {}"
                    + " is kept so that the rows, if they survive, still have a body", message.id(), message.file(), e);
            return;
        }
        message.discard();
    }

    void onArrival(MailQueue.ArrivalListener listener) {
        this.arrivalListener = listener;
    }

    void forget(IncomingSpoolMessage message) {
        receiving.remove(message);
    }

    /** Aborts every message still being received (queue close); commits in progress have finished by now. */
    void abortAll() {
        List<IncomingSpoolMessage> open = new ArrayList<>(receiving);
        for (IncomingSpoolMessage m : open) {
            m.abort();
        }
        if (!open.isEmpty()) {
            LOG.info("queue closing: aborted {} messages still being received", open.size());
        }
    }
}
