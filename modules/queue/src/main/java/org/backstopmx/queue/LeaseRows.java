package org.backstopmx.queue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.Lease;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.RetryPolicy;

/**
 * The SQL of the delivering side after the claim ({@link ClaimRows}): recording outcomes, renewing and giving leases
 * back, clearing expired leases. Stateless, like {@link MessageRows}: the caller owns the transaction.
 *
 * <p>A lease is its row's {@code lease_owner}: a token drawn for each claim, never reused. Every compare-and-set here
 * compares id, state and that token ({@link #HELD_BY}), not the lease's end, so that a renewal (which moves the end)
 * leaves the holder's lease valid; a clearing of expired leases or a new claim changes the token.
 */
final class LeaseRows {
    /** The lease still holds: same recipient, same state, same claim. */
    private static final String HELD_BY = " WHERE id = ? AND state = ? AND lease_owner = ?";

    private static final String RECORD = "UPDATE recipient SET state = ?, attempts = attempts + 1,"
            + " next_attempt_at = ?, last_reply = ?, last_host = ?, last_attempt_at = ?,"
            + " lease_until = NULL, lease_owner = NULL" + HELD_BY;

    /**
     * The renewal: a lease that has not run out moves its end, and a due-state recipient its next attempt with it (a
     * HELD one leased for a bounce has none).
     */
    private static final String RENEW = "UPDATE recipient SET lease_until = ?, next_attempt_at = CASE WHEN state IN "
            + StateSql.SCHEDULED + " THEN ? ELSE next_attempt_at END" + HELD_BY + " AND lease_until > ?";

    private static final int REPLY_COLUMN = 1024;
    private static final int HOST_COLUMN = 255;

    private LeaseRows() {
    }

    /** What {@link #recordOutcome} did: whether the lease still held, and the message if this finished it. */
    record Recorded(boolean won, Optional<MessageRows.Removed> finished, boolean stateWritten) {
        Recorded(boolean won, Optional<MessageRows.Removed> finished) {
            this(won, finished, true);
        }
    }

    /**
     * The whole of recording an outcome, for one transaction: lock the message row, compare-and-set the recipient,
     * write the attempt row, and delete the message (history included) when no recipient is left pending.
     */
    static Recorded recordOutcome(Connection c, Lease lease, DeliveryOutcome outcome, RetryPolicy.Decision decision,
            Instant now) throws SQLException {
        if (lockMessage(c, lease.queueId()).isEmpty()) {
            return new Recorded(false, Optional.empty());
        }
        if (decision.next().isFinal() && !hasPendingBesides(c, lease)) {
            // The message ends with this outcome: its rows go, history included, so writing the recipient's new state
            // and an attempt row only to delete them would be wasted work (most messages end this way). The
            // compare-and-set is then a check under the row lock instead of the update.
            if (!holdsLease(c, lease)) {
                return new Recorded(false, Optional.empty());
            }
            return new Recorded(true, MessageRows.delete(c, lease.queueId()), false);
        }
        if (!record(c, lease, outcome, decision, now)) {
            return new Recorded(false, Optional.empty());
        }
        return new Recorded(true, Optional.empty());
    }

    /**
     * Locks the lease's message row for the rest of the transaction, so that two outcomes for recipients of one
     * message are recorded one after the other and the later one sees whether any recipient is left pending. Empty
     * when the message is gone.
     */
    static Optional<Long> lockMessage(Connection c, QueueId id) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT size FROM message WHERE id = ? FOR UPDATE")) {
            p.setString(1, id.value());
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? Optional.of(rs.getLong(1)) : Optional.empty();
            }
        }
    }

    /** The compare-and-set of the outcome; false when the lease is no longer the recipient's. */
    static boolean record(Connection c, Lease lease, DeliveryOutcome outcome, RetryPolicy.Decision decision,
            Instant now) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(RECORD)) {
            p.setString(1, decision.next().name());
            p.setObject(2, decision.nextAttemptAt());
            p.setString(3, clip(outcome.describe(), REPLY_COLUMN)); // for queue listings: say something even without a reply
            p.setString(4, clip(outcome.host(), HOST_COLUMN));
            p.setObject(5, now);
            setLease(p, 6, lease);
            if (p.executeUpdate() != 1) {
                return false;
            }
        }
        try (PreparedStatement p = c.prepareStatement("INSERT INTO attempt"
                + " (recipient_id, message_id, attempted_at, host, stage, outcome, reply) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            p.setLong(1, lease.recipientId());
            p.setString(2, lease.queueId().value());
            p.setObject(3, now);
            p.setString(4, clip(outcome.host(), HOST_COLUMN));
            p.setString(5, outcome.stage().name());
            p.setString(6, outcome.kind());
            p.setString(7, clip(reply(outcome), REPLY_COLUMN));
            p.executeUpdate();
        }
        if (lease.attempts() >= KEPT_ATTEMPTS) {
            // the oldest goes as the newest comes: history stays bounded through a long outage
            try (PreparedStatement p = c.prepareStatement("DELETE FROM attempt WHERE id = (SELECT MIN(id) FROM attempt"
                    + " WHERE message_id = ? AND recipient_id = ?)")) {
                p.setString(1, lease.queueId().value());
                p.setLong(2, lease.recipientId());
                p.executeUpdate();
            }
        }
        return true;
    }

    /**
     * How many attempt rows a recipient keeps: its latest ones. A recipient deferred every few minutes through a day
     * long outage would otherwise add one row each time, and every compaction copies them all; the reply that a DSN
     * quotes is the recipient's own {@code last_reply}.
     */
    static final int KEPT_ATTEMPTS = 5;

    /** Whether any recipient of the lease's message other than the lease's own is still QUEUED, DEFERRED or HELD. */
    static boolean hasPendingBesides(Connection c, Lease lease) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM recipient WHERE message_id = ? AND id <> ?"
                + " AND state IN " + StateSql.PENDING + " LIMIT 1")) {
            p.setString(1, lease.queueId().value());
            p.setLong(2, lease.recipientId());
            try (ResultSet rs = p.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** The compare-and-set's condition, checked under a row lock: the recipient is still under this lease. */
    static boolean holdsLease(Connection c, Lease lease) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM recipient" + HELD_BY + " FOR UPDATE")) {
            setLease(p, 1, lease);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next();
            }
        }
    }

    /**
     * Clears lease owner and expiry of leases that ended at or before {@code now}; returns how many. A leased row's
     * next attempt time is its lease expiry, so the range scan of the due index finds them.
     */
    static int clearExpired(Connection c, Instant now) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE recipient SET lease_until = NULL, lease_owner = NULL"
                + " WHERE next_attempt_at <= ? AND lease_until IS NOT NULL AND lease_until <= ?")) {
            p.setObject(1, now);
            p.setObject(2, now);
            return p.executeUpdate();
        }
    }

    /** Gives leases back: due at {@code now}, lease cleared, where the lease still holds; returns how many. */
    static int release(Connection c, List<Lease> leases, Instant now) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE recipient SET next_attempt_at = ?, lease_until = NULL,"
                + " lease_owner = NULL" + HELD_BY)) {
            for (Lease l : leases) {
                p.setObject(1, now);
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
                p.setObject(1, until);
                p.setObject(2, until);
                setLease(p, 3, l);
                p.setObject(6, now);
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

    private static void setLease(PreparedStatement p, int from, Lease lease) throws SQLException {
        p.setLong(from, lease.recipientId());
        p.setString(from + 1, lease.state().name());
        p.setString(from + 2, lease.owner());
    }

    /** The earliest next attempt time of any pending recipient (leases included), read from the due index. */
    static Optional<Instant> nextDue(Connection c) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT next_attempt_at FROM recipient"
                + " WHERE next_attempt_at IS NOT NULL AND state IN " + StateSql.SCHEDULED
                + " ORDER BY next_attempt_at LIMIT 1")) {
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? Optional.of(rs.getObject(1, Instant.class)) : Optional.empty();
            }
        }
    }

    /**
     * Startup: every lease still running belongs to the previous run (the queue lock admits one process), so its
     * recipients are made due now rather than at the lease's end, and the lease bookkeeping is cleared.
     */
    static int releaseAll(Connection c, Instant now) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE recipient SET next_attempt_at = ?,"
                + " lease_until = NULL, lease_owner = NULL"
                + " WHERE lease_until IS NOT NULL AND next_attempt_at > ? AND state IN " + StateSql.SCHEDULED)) {
            p.setObject(1, now);
            p.setObject(2, now);
            return p.executeUpdate();
        }
    }

    /** The reply as stored: null when the remote said nothing (the stage is in the attempt row). */
    private static String reply(DeliveryOutcome outcome) {
        return outcome.reply() == null ? null : outcome.reply().toString();
    }

    private static String clip(String text, int max) {
        return text == null || text.length() <= max ? text : text.substring(0, max);
    }
}
