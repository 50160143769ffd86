package org.backstopmx.queue.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import org.backstopmx.core.DsnRet;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.MailExtension;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueueStats;
import org.backstopmx.core.QueuedMessage;
import org.backstopmx.core.QueuedRecipient;
import org.backstopmx.core.RecipientState;

/**
 * The SQL of messages, their recipients and their body chunks. Stateless: the caller owns the transaction.
 */
final class MessageSql {
    private static final String COLUMNS = "m.id, m.received_at, m.size, m.sender, m.client_address,"
            + " r.address, r.state, r.attempts, r.next_attempt_at, r.last_reply";

    private MessageSql() {
    }

    /**
     * Inserts the message and one QUEUED recipient per envelope recipient.
     *
     * @param firstAttempt when each recipient (by domain) is first due; asked once per domain
     */
    static void insert(Connection c, Envelope e, long size, String node, Instant now,
            BiFunction<String, Instant, Instant> firstAttempt) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO message (id, received_at, received_by,"
                + " client_address, client_helo, sender, env_id, ret, size, extensions)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            p.setString(1, e.id().value());
            Times.set(p, 2, e.receivedAt());
            p.setString(3, node);
            p.setString(4, e.clientAddress());
            p.setString(5, e.clientHelo());
            p.setString(6, e.sender());
            p.setString(7, e.envId());
            p.setString(8, e.ret() == null ? null : e.ret().name());
            p.setLong(9, size);
            p.setString(10, e.extensions().isEmpty() ? null : MailExtension.format(e.extensions()));
            p.executeUpdate();
        }
        Map<String, Instant> due = new HashMap<>();
        try (PreparedStatement p = c.prepareStatement("INSERT INTO recipient (message_id, position, address, domain,"
                + " dsn_notify, orcpt, state, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, 'QUEUED', ?)")) {
            int position = 0;
            for (EnvelopeRecipient r : e.recipients()) {
                p.setString(1, e.id().value());
                p.setInt(2, position++);
                p.setString(3, r.address());
                p.setString(4, r.domain());
                p.setString(5, r.dsnNotify());
                p.setString(6, r.orcpt());
                Times.set(p, 7, due.computeIfAbsent(r.domain(), d -> firstAttempt.apply(d, now)));
                p.addBatch();
            }
            p.executeBatch();
        }
    }

    static void insertChunk(Connection c, QueueId id, int seq, byte[] data, int length) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO body_chunk (message_id, seq, data)"
                + " VALUES (?, ?, ?)")) {
            p.setString(1, id.value());
            p.setInt(2, seq);
            p.setBinaryStream(3, new java.io.ByteArrayInputStream(data, 0, length), length);
            p.executeUpdate();
        }
    }

    /** Chunk {@code seq} of the body, or empty when there is none (past the end, or no such message). */
    static Optional<byte[]> chunk(Connection c, QueueId id, int seq) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT data FROM body_chunk WHERE message_id = ? AND seq = ?")) {
            p.setString(1, id.value());
            p.setInt(2, seq);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? Optional.of(rs.getBytes(1)) : Optional.empty();
            }
        }
    }

    static boolean exists(Connection c, QueueId id) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM message WHERE id = ?")) {
            p.setString(1, id.value());
            try (ResultSet rs = p.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Oldest first: queue ids sort by arrival. */
    static List<QueuedMessage> list(Connection c, int limit) throws SQLException {
        if (limit <= 0) {
            return List.of();
        }
        try (PreparedStatement p = c.prepareStatement("SELECT " + COLUMNS
                + " FROM (SELECT * FROM message ORDER BY id LIMIT ?) m"
                + " JOIN recipient r ON r.message_id = m.id ORDER BY m.id, r.position")) {
            p.setInt(1, limit);
            return messages(p);
        }
    }

    static Optional<QueuedMessage> find(Connection c, QueueId id) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT " + COLUMNS
                + " FROM message m JOIN recipient r ON r.message_id = m.id WHERE m.id = ? ORDER BY r.position")) {
            p.setString(1, id.value());
            return messages(p).stream().findFirst();
        }
    }

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
        try (PreparedStatement p = c.prepareStatement("SELECT received_at, client_address, client_helo, sender,"
                + " env_id, ret, size, extensions FROM message WHERE id = ?")) {
            p.setString(1, id.value());
            try (ResultSet rs = p.executeQuery()) {
                if (!rs.next() || recipients.isEmpty()) {
                    return Optional.empty();
                }
                String ret = rs.getString(6);
                return Optional.of(new Envelope(id, Times.get(rs, 1), rs.getString(2), rs.getString(3),
                        rs.getString(4), rs.getString(5), ret == null ? null : DsnRet.valueOf(ret), rs.getLong(7),
                        recipients, MailExtension.parse(rs.getString(8))));
            }
        }
    }

    /**
     * Deletes the message; its recipients, attempts and chunks go with it (ON DELETE CASCADE). Returns its size, empty
     * when there was no such message.
     */
    static Optional<Long> delete(Connection c, QueueId id) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("DELETE FROM message WHERE id = ? RETURNING size")) {
            p.setString(1, id.value());
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? Optional.of(rs.getLong(1)) : Optional.empty();
            }
        }
    }

    /** The counts of the whole queue, every node's mail: one scan of each table. */
    static QueueStats stats(Connection c) throws SQLException {
        long messages = 0;
        long bytes = 0;
        Map<RecipientState, Long> byState = new EnumMap<>(RecipientState.class);
        try (PreparedStatement p = c.prepareStatement("SELECT NULL, COUNT(*), COALESCE(SUM(size), 0) FROM message"
                + " UNION ALL SELECT state, COUNT(*), 0 FROM recipient GROUP BY state");
                ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                if (rs.getString(1) == null) {
                    messages = rs.getLong(2);
                    bytes = rs.getLong(3);
                } else {
                    byState.put(RecipientState.valueOf(rs.getString(1)), rs.getLong(2));
                }
            }
        }
        return new QueueStats(messages, bytes, byState);
    }

    /** A message's own columns, read with its first recipient. */
    private record Head(Instant receivedAt, long size, String sender, String clientAddress) {
    }

    /** Groups the joined rows (ordered by message, then position) into messages. */
    private static List<QueuedMessage> messages(PreparedStatement p) throws SQLException {
        Map<String, Head> heads = new java.util.LinkedHashMap<>();
        Map<String, List<QueuedRecipient>> recipients = new HashMap<>();
        try (ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                String id = rs.getString(1);
                if (!heads.containsKey(id)) {
                    heads.put(id, new Head(Times.get(rs, 2), rs.getLong(3), rs.getString(4), rs.getString(5)));
                }
                recipients.computeIfAbsent(id, k -> new ArrayList<>()).add(new QueuedRecipient(rs.getString(6),
                        RecipientState.valueOf(rs.getString(7)), rs.getInt(8), Times.get(rs, 9), rs.getString(10)));
            }
        }
        List<QueuedMessage> result = new ArrayList<>();
        heads.forEach((id, h) -> result.add(new QueuedMessage(new QueueId(id), h.receivedAt(), h.size(), h.sender(),
                h.clientAddress(), recipients.get(id))));
        return result;
    }
}
