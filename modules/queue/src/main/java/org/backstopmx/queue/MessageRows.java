package org.backstopmx.queue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.backstopmx.core.DsnRet;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.MailExtension;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueuedMessage;
import org.backstopmx.core.QueuedRecipient;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.SpfResult;

/**
 * The SQL for message and recipient rows. Stateless: every method works on the connection (and transaction) it is
 * given, so the caller decides what is atomic.
 */
final class MessageRows {
    static final String EXISTS_BY_ID = "SELECT 1 FROM message WHERE id = ?";

    private MessageRows() {
    }

    /** What {@link #delete} removed, for the counters. */
    record Removed(long size, List<RecipientState> states, List<String> domains) {
    }

    /** Inserts the message and one QUEUED recipient per envelope recipient, all due at {@code now}. */
    static void insert(Connection c, Envelope e, long size, Instant now) throws SQLException {
        insert(c, e, size, now, null);
    }

    /**
     * @param firstAttempt when each recipient (by domain) is first due, or null for {@code now}; asked once per
     *                     domain of the message
     */
    static void insert(Connection c, Envelope e, long size, Instant now,
            java.util.function.BiFunction<String, Instant, Instant> firstAttempt) throws SQLException {
        java.util.Map<String, Instant> due = new java.util.HashMap<>();
        try (PreparedStatement p = c.prepareStatement("INSERT INTO message"
                + " (id, received_at, client_address, client_helo, sender, env_id, ret, size, extensions, spf)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            p.setString(1, e.id().value());
            p.setObject(2, e.receivedAt());
            p.setString(3, e.clientAddress());
            p.setString(4, e.clientHelo());
            p.setString(5, e.sender());
            p.setString(6, e.envId());
            p.setString(7, e.ret() == null ? null : e.ret().name());
            p.setLong(8, size);
            p.setString(9, e.extensions().isEmpty() ? null : MailExtension.format(e.extensions()));
            p.setString(10, e.spf() == null ? null : e.spf().name());
            p.executeUpdate();
        }
        try (PreparedStatement p = c.prepareStatement("INSERT INTO recipient"
                + " (message_id, position, address, domain, dsn_notify, orcpt, state, attempts, next_attempt_at)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)")) {
            int position = 0;
            for (EnvelopeRecipient r : e.recipients()) {
                p.setString(1, e.id().value());
                p.setInt(2, position++);
                p.setString(3, r.address());
                p.setString(4, r.domain());
                p.setString(5, r.dsnNotify());
                p.setString(6, r.orcpt());
                p.setString(7, RecipientState.QUEUED.name());
                p.setObject(8, firstAttempt == null ? now
                        : due.computeIfAbsent(r.domain(), d -> firstAttempt.apply(d, now)));
                p.addBatch();
            }
            p.executeBatch();
        }
    }

    /** Oldest first: queue ids sort by arrival, so the primary key order is arrival order. */
    static List<QueuedMessage> list(Connection c, int limit) throws SQLException {
        if (limit <= 0) {
            return List.of();
        }
        try (PreparedStatement p = c.prepareStatement("SELECT m.id, m.received_at, m.size, m.sender, m.client_address,"
                + " r.address, r.state, r.attempts, r.next_attempt_at, r.last_reply"
                + " FROM (SELECT id, received_at, size, sender, client_address FROM message ORDER BY id LIMIT ?) m"
                + " JOIN recipient r ON r.message_id = m.id ORDER BY m.id, r.position")) {
            p.setInt(1, limit);
            return queuedMessages(p);
        }
    }

    static Optional<QueuedMessage> find(Connection c, QueueId id) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT m.id, m.received_at, m.size, m.sender, m.client_address,"
                + " r.address, r.state, r.attempts, r.next_attempt_at, r.last_reply"
                + " FROM message m JOIN recipient r ON r.message_id = m.id WHERE m.id = ? ORDER BY r.position")) {
            p.setString(1, id.value());
            return queuedMessages(p).stream().findFirst();
        }
    }

    /** The envelope as it was committed, DSN parameters and HELO included. */
    static Optional<Envelope> envelope(Connection c, QueueId id) throws SQLException {
        List<EnvelopeRecipient> recipients = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement("SELECT address, dsn_notify, orcpt FROM recipient"
                + " WHERE message_id = ? ORDER BY position")) {
            p.setString(1, id.value());
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    recipients.add(new EnvelopeRecipient(rs.getString(1), rs.getString(2), rs.getString(3)));
                }
            }
        }
        try (PreparedStatement p = c.prepareStatement("SELECT received_at, client_address, client_helo, sender, env_id,"
                + " ret, size, extensions, spf FROM message WHERE id = ?")) {
            p.setString(1, id.value());
            try (ResultSet rs = p.executeQuery()) {
                if (!rs.next() || recipients.isEmpty()) {
                    return Optional.empty();
                }
                String ret = rs.getString(6);
                String spf = rs.getString(9);
                return Optional.of(new Envelope(id, rs.getObject(1, Instant.class), rs.getString(2), rs.getString(3),
                        rs.getString(4), rs.getString(5), ret == null ? null : DsnRet.valueOf(ret), rs.getLong(7),
                        recipients, MailExtension.parse(rs.getString(8)), spf == null ? null : SpfResult.valueOf(spf)));
            }
        }
    }

    /**
     * Deletes the message with its recipients and attempt history. The deleted values come from H2's
     * {@code OLD TABLE (DELETE ...)}, so the counters learn exactly what this transaction removed even if another one
     * raced it.
     */
    static Optional<Removed> delete(Connection c, QueueId id) throws SQLException {
        // The message row first, like recordOutcome: one lock order (message, then recipients) for both.
        try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM message WHERE id = ? FOR UPDATE")) {
            p.setString(1, id.value());
            p.executeQuery().close();
        }
        try (PreparedStatement p = c.prepareStatement("DELETE FROM attempt WHERE message_id = ?")) {
            p.setString(1, id.value());
            p.executeUpdate();
        }
        List<RecipientState> states = new ArrayList<>();
        List<String> domains = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement(
                "SELECT state, domain FROM OLD TABLE (DELETE FROM recipient WHERE message_id = ?)")) {
            p.setString(1, id.value());
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    states.add(RecipientState.valueOf(rs.getString(1)));
                    domains.add(rs.getString(2));
                }
            }
        }
        try (PreparedStatement p = c.prepareStatement("SELECT size FROM OLD TABLE (DELETE FROM message WHERE id = ?)")) {
            p.setString(1, id.value());
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? Optional.of(new Removed(rs.getLong(1), states, domains)) : Optional.empty();
            }
        }
    }

    /** Prepare once with {@link #EXISTS_BY_ID}, then ask per id: recovery asks this for every spool file. */
    static boolean exists(PreparedStatement existsById, QueueId id) throws SQLException {
        existsById.setString(1, id.value());
        try (ResultSet rs = existsById.executeQuery()) {
            return rs.next();
        }
    }

    /** Every message id, in order (for startup recovery). */
    static List<QueueId> allIds(Connection c) throws SQLException {
        List<QueueId> ids = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement("SELECT id FROM message ORDER BY id");
                ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                ids.add(new QueueId(rs.getString(1)));
            }
        }
        return ids;
    }

    /** Groups the joined message/recipient rows (ordered by message) into messages. */
    private static List<QueuedMessage> queuedMessages(PreparedStatement p) throws SQLException {
        List<QueuedMessage> result = new ArrayList<>();
        try (ResultSet rs = p.executeQuery()) {
            String currentId = null;
            Instant receivedAt = null;
            long size = 0;
            String sender = null;
            String client = null;
            List<QueuedRecipient> recipients = new ArrayList<>();
            while (rs.next()) {
                String id = rs.getString(1);
                if (!id.equals(currentId)) {
                    if (currentId != null) {
                        result.add(new QueuedMessage(new QueueId(currentId), receivedAt, size, sender, client,
                                recipients));
                    }
                    currentId = id;
                    receivedAt = rs.getObject(2, Instant.class);
                    size = rs.getLong(3);
                    sender = rs.getString(4);
                    client = rs.getString(5);
                    recipients = new ArrayList<>();
                }
                int attempts = rs.getInt(8);
                recipients.add(new QueuedRecipient(rs.getString(6), RecipientState.valueOf(rs.getString(7)), attempts,
                        rs.getObject(9, Instant.class), rs.getString(10)));
            }
            if (currentId != null) {
                result.add(new QueuedMessage(new QueueId(currentId), receivedAt, size, sender, client, recipients));
            }
        }
        return result;
    }
}
