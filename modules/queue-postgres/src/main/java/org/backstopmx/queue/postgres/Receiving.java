package org.backstopmx.queue.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving side: a message's chunks, message row and recipient rows go in one transaction, committed with
 * {@code synchronous_commit = on}; {@link #commit} returns after that commit and only then may the SMTP side answer
 * 250. A failure anywhere rolls the whole transaction back: nothing of the message is left, and the client is told
 * 451/452 and sends it again. Each node's {@code arrived} listener hears only of its own messages; the other nodes
 * find them through the due index when they next look ({@link MailQueue#nextDue}).
 */
final class Receiving {
    private static final Logger LOG = LoggerFactory.getLogger(Receiving.class);
    /** One line per message event, keyed by queue id, as the H2 queue logs them. */
    static final Logger MESSAGES = LoggerFactory.getLogger("org.backstopmx.queue.postgres.MessageLog");

    private final PostgresDatabase db;
    private final String node;
    private final Clock clock;
    private final BooleanSupplier closed;
    private final Set<ChunkedIncomingMessage> receiving = ConcurrentHashMap.newKeySet();
    private volatile MailQueue.ArrivalListener listener;

    Receiving(PostgresDatabase db, String node, Clock clock, BooleanSupplier closed) {
        this.db = db;
        this.node = node;
        this.clock = clock;
        this.closed = closed;
    }

    ChunkedIncomingMessage receive(QueueId id) throws QueueException {
        if (closed.getAsBoolean()) {
            throw new QueueException(QueueException.Kind.UNAVAILABLE, id + ": receive: the queue is closed");
        }
        ChunkedIncomingMessage m = new ChunkedIncomingMessage(id, this);
        receiving.add(m);
        return m;
    }

    Connection borrow() throws SQLException {
        return db.borrow();
    }

    /** Bounds one use of a borrowed connection (see {@link Watchdog}). */
    Watchdog.Watch watch(Connection c, String what) {
        return db.watch(c, what);
    }

    void commit(ChunkedIncomingMessage message, Envelope envelope) throws QueueException {
        QueueId id = message.id();
        try {
            if (closed.getAsBoolean()) {
                throw new QueueException(QueueException.Kind.UNAVAILABLE, id + ": commit: the queue is closed");
            }
            long size;
            try {
                Connection c = message.finish();
                size = message.size();
                Instant now = Times.micros(clock.instant());
                MailQueue.ArrivalListener l = listener;
                try (Watchdog.Watch w = db.watch(c, id + ": the commit")) {
                    MessageSql.insert(c, envelope, size, node, now, l == null ? (d, t) -> t : l::firstAttempt);
                    c.commit();
                }
            } catch (SQLException | RuntimeException e) {
                throw PostgresDatabase.failure(id + ": cannot store the message", e);
            }
            if (size != envelope.size()) {
                LOG.warn("{}: envelope says {} bytes, the body has {}; storing {}", id, envelope.size(), size, size);
            }
            MESSAGES.info("{}: received from=<{}> size={} nrcpt={} client={} node={}", id, envelope.sender(), size,
                    envelope.recipients().size(), envelope.clientAddress(), node);
            MailQueue.ArrivalListener l = listener;
            if (l != null) {
                try {
                    l.arrived(envelope);
                } catch (RuntimeException e) {
                    LOG.warn("{}: arrival listener failed", id, e); // queued all the same
                }
            }
        } finally {
            receiving.remove(message);
        }
    }

    void forget(ChunkedIncomingMessage message) {
        receiving.remove(message);
    }

    void onArrival(MailQueue.ArrivalListener l) {
        this.listener = l;
    }

    /** Aborts every message still being received (queue close). */
    void abortAll() {
        List<ChunkedIncomingMessage> open = new ArrayList<>(receiving);
        open.forEach(ChunkedIncomingMessage::abort);
        if (!open.isEmpty()) {
            LOG.info("queue closing: aborted {} messages still being received", open.size());
        }
    }
}
