package org.backstopmx.queue.postgres;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.Lease;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.RetryPolicy;

/**
 * The SQL of the delivering side, shared by every node: claiming due work, recording outcomes, giving leases back.
 * Stateless: the caller owns the transaction.
 *
 * <p>Lock order, the same everywhere: a message row ({@code FOR UPDATE}) before its recipients. The claim locks only
 * recipients, and skips those another transaction holds ({@code SKIP LOCKED}): two nodes claiming at once get
 * disjoint sets without waiting for each other.
 */
final class LeaseSql {
    static final String SCHEDULED = "('QUEUED', 'DEFERRED')";
    static final String PENDING = "('QUEUED', 'DEFERRED', 'HELD')";

    /**
     * The claim in one statement: the due recipients in due order from the partial due index, locked or skipped, then
     * moved to the lease's end and marked with the holder and the claim's token. The old due time comes back for the
     * order of the result.
     */
    private static final String CLAIM = "WITH due AS (SELECT id, next_attempt_at AS due_at FROM recipient"
            + " WHERE state IN " + SCHEDULED + " AND next_attempt_at <= ? AND domain <> ALL (?)"
            + " ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED)"
            + " UPDATE recipient r SET next_attempt_at = ?, lease_until = ?, lease_owner = ?, lease_token = ?"
            + " FROM due, message m WHERE r.id = due.id AND m.id = r.message_id"
            + " RETURNING r.id, r.message_id, r.address, r.domain, r.dsn_notify, r.orcpt, r.attempts, r.state,"
            + " m.received_at, r.last_attempt_at, due.due_at";

    /**
     * The lease still holds: same state, same claim. The claim's token, not the lease's end, identifies a lease (see
     * V4__lease_token.sql), so that a renewal leaves the holder's lease valid.
     */
    private static final String HELD_BY = " WHERE id = ? AND state = ? AND lease_token = ?";

    /** No lease on the row: what recording, giving back and clearing leave. */
    static final String NO_LEASE = "lease_until = NULL, lease_owner = NULL, lease_token = NULL";

    /**
     * The renewal of a lease that has not run out: its end moves, and a due-state recipient's next attempt with it (a
     * HELD one leased for a bounce has none).
     */
    private static final String RENEW = "UPDATE recipient SET lease_until = ?, next_attempt_at = CASE WHEN state IN "
            + SCHEDULED + " THEN ? ELSE next_attempt_at END" + HELD_BY + " AND lease_until > ?";

    private static final int REPLY_COLUMN = 1024;
    /** How many attempt rows a recipient keeps, its latest (the H2 queue's {@code LeaseRows.KEPT_ATTEMPTS}). */
    static final int KEPT_ATTEMPTS = 5;
    private static final int HOST_COLUMN = 255;

    private LeaseSql() {
    }

    /**
     * Claims up to {@code max} due recipients for node {@code owner} until {@code until}, passing over {@code skip},
     * under a new token; the leases grouped by domain (domains in the order of their oldest due recipient), due order
     * within a domain.
     */
    static List<Lease> claim(Connection c, int max, Instant now, Instant until, String owner, Set<String> skip)
            throws SQLException {
        String token = newToken();
        record Claimed(Lease lease, Instant dueAt) {
        }
        List<Claimed> claimed = new ArrayList<>();
        Array skipped = c.createArrayOf("varchar", skip.toArray());
        try (PreparedStatement p = c.prepareStatement(CLAIM)) {
            Times.set(p, 1, now);
            p.setArray(2, skipped);
            p.setInt(3, max);
            Times.set(p, 4, until);
            Times.set(p, 5, until);
            p.setString(6, owner);
            p.setString(7, token);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    claimed.add(new Claimed(new Lease(rs.getLong(1), new QueueId(rs.getString(2)), rs.getString(3),
                            rs.getString(4), rs.getString(5), rs.getString(6), rs.getInt(7),
                            RecipientState.valueOf(rs.getString(8)), Times.get(rs, 9), Times.get(rs, 10),
                            Times.micros(until), token), Times.get(rs, 11)));
                }
            }
        } finally {
            skipped.free();
        }
        claimed.sort(Comparator.comparing(Claimed::dueAt).thenComparingLong(x -> x.lease().recipientId()));
        Map<String, List<Lease>> byDomain = new LinkedHashMap<>();
        for (Claimed x : claimed) {
            byDomain.computeIfAbsent(x.lease().domain(), d -> new ArrayList<>()).add(x.lease());
        }
        List<Lease> leases = new ArrayList<>(claimed.size());
        byDomain.values().forEach(leases::addAll);
        return leases;
    }

    /** What {@link #record} did: whether the lease held, and the finished message's size when it ended it. */
    record Recorded(boolean won, Optional<Long> finishedSize) {
    }

    /**
     * Records one outcome: lock the message row, compare-and-set the recipient, write the attempt row; or, when this
     * was the message's last pending recipient and it ends, delete the message (its rows and chunks cascade).
     */
    static Recorded record(Connection c, Lease lease, DeliveryOutcome outcome, RetryPolicy.Decision decision,
            Instant now, String node) throws SQLException {
        if (!lockMessage(c, lease.queueId())) {
            return new Recorded(false, Optional.empty());
        }
        if (decision.next().isFinal() && !hasPendingBesides(c, lease)) {
            if (!holdsLease(c, lease)) {
                return new Recorded(false, Optional.empty());
            }
            return new Recorded(true, MessageSql.delete(c, lease.queueId()));
        }
        try (PreparedStatement p = c.prepareStatement("UPDATE recipient SET state = ?, attempts = attempts + 1,"
                + " next_attempt_at = ?, last_reply = ?, last_host = ?, last_attempt_at = ?,"
                + " " + NO_LEASE + HELD_BY)) {
            p.setString(1, decision.next().name());
            Times.set(p, 2, decision.nextAttemptAt());
            p.setString(3, clip(outcome.describe(), REPLY_COLUMN));
            p.setString(4, clip(outcome.host(), HOST_COLUMN));
            Times.set(p, 5, now);
            setLease(p, 6, lease);
            if (p.executeUpdate() != 1) {
                return new Recorded(false, Optional.empty());
            }
        }
        try (PreparedStatement p = c.prepareStatement("INSERT INTO attempt (recipient_id, message_id, attempted_at,"
                + " node, host, stage, outcome, reply) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
            p.setLong(1, lease.recipientId());
            p.setString(2, lease.queueId().value());
            Times.set(p, 3, now);
            p.setString(4, node);
            p.setString(5, clip(outcome.host(), HOST_COLUMN));
            p.setString(6, outcome.stage().name());
            p.setString(7, outcome.kind());
            p.setString(8, outcome.reply() == null ? null : clip(outcome.reply().toString(), REPLY_COLUMN));
            p.executeUpdate();
        }
        if (lease.attempts() >= KEPT_ATTEMPTS) {
            // the oldest goes as the newest comes, as on H2: history stays bounded through a long outage
            try (PreparedStatement p = c.prepareStatement("DELETE FROM attempt WHERE id = (SELECT MIN(id) FROM attempt"
                    + " WHERE message_id = ? AND recipient_id = ?)")) {
                p.setString(1, lease.queueId().value());
                p.setLong(2, lease.recipientId());
                p.executeUpdate();
            }
        }
        return new Recorded(true, Optional.empty());
    }

    /** Locks the message row for the rest of the transaction; false when the message is gone. */
    static boolean lockMessage(Connection c, QueueId id) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM message WHERE id = ? FOR UPDATE")) {
            p.setString(1, id.value());
            try (ResultSet rs = p.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static boolean hasPendingBesides(Connection c, Lease lease) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM recipient WHERE message_id = ? AND id <> ?"
                + " AND state IN " + PENDING + " LIMIT 1")) {
            p.setString(1, lease.queueId().value());
            p.setLong(2, lease.recipientId());
            try (ResultSet rs = p.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static boolean holdsLease(Connection c, Lease lease) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM recipient" + HELD_BY + " FOR UPDATE")) {
            setLease(p, 1, lease);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Gives leases back, due at {@code now}, where they still hold; returns how many. */
    static int release(Connection c, List<Lease> leases, Instant now) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE recipient SET next_attempt_at = ?, " + NO_LEASE
                + HELD_BY)) {
            for (Lease l : leases) {
                Times.set(p, 1, now);
                setLease(p, 2, l);
                p.addBatch();
            }
            int released = 0;
            for (int n : p.executeBatch()) {
                released += n > 0 ? 1 : 0;
            }
            return released;
        }
    }

    /** Renews, until {@code until}, the leases that still hold and have not run out at {@code now}; see {@link #RENEW}. */
    static List<Lease> renew(Connection c, List<Lease> leases, Instant now, Instant until) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(RENEW)) {
            for (Lease l : leases) {
                Times.set(p, 1, until);
                Times.set(p, 2, until);
                setLease(p, 3, l);
                Times.set(p, 6, now);
                p.addBatch();
            }
            int[] counts = p.executeBatch();
            List<Lease> renewed = new ArrayList<>(leases.size());
            for (int i = 0; i < counts.length; i++) {
                if (counts[i] > 0) {
                    renewed.add(leases.get(i).renewedUntil(until));
                }
            }
            return renewed;
        }
    }

    /** A claim's token: drawn for each claim, never reused. */
    static String newToken() {
        return java.util.UUID.randomUUID().toString();
    }

    /**
     * Gives back every lease {@code owner} holds (at its startup, when none of them can have a holder, and at its
     * close): due recipients are due at {@code now} at the latest, held ones stay held. Returns how many.
     */
    static int releaseAllOf(Connection c, String owner, Instant now) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE recipient SET " + NO_LEASE + ","
                + " next_attempt_at = CASE WHEN state IN " + SCHEDULED + " THEN LEAST(next_attempt_at, ?) END"
                + " WHERE lease_owner = ?")) {
            Times.set(p, 1, now);
            p.setString(2, owner);
            return p.executeUpdate();
        }
    }

    /** Clears the holder and end of every lease, any node's, that ended at or before {@code now}. */
    static int clearExpired(Connection c, Instant now) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE recipient SET " + NO_LEASE
                + " WHERE lease_owner IS NOT NULL AND lease_until <= ?")) {
            Times.set(p, 1, now);
            return p.executeUpdate();
        }
    }

    /** The earliest next attempt time of any due-state recipient, leases included. */
    static Optional<Instant> nextDue(Connection c) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT MIN(next_attempt_at) FROM recipient"
                + " WHERE state IN " + SCHEDULED);
                ResultSet rs = p.executeQuery()) {
            rs.next();
            return Optional.ofNullable(Times.get(rs, 1));
        }
    }

    private static void setLease(PreparedStatement p, int from, Lease lease) throws SQLException {
        p.setLong(from, lease.recipientId());
        p.setString(from + 1, lease.state().name());
        p.setString(from + 2, lease.owner());
    }

    private static String clip(String text, int max) {
        return text == null || text.length() <= max ? text : text.substring(0, max);
    }
}
