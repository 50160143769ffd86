package org.backstopmx.queue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.backstopmx.core.Lease;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.RecipientState;

/**
 * The SQL of the admin commands on one message ({@code queue hold|release|bounce}) and of a flush of every domain.
 * A recipient whose attempt is running under a lease is never touched: the attempt's outcome is recorded as usual
 * (holding it now would throw away a delivery that may already have happened, and a second one would follow).
 */
final class AdminRows {
    /** Not under a running lease, at {@code now}. */
    private static final String NOT_LEASED = " AND (lease_until IS NULL OR lease_until <= ?)";

    private AdminRows() {
    }

    /**
     * Moves the message's pending recipients from {@code from} (QUEUED and DEFERRED for hold, HELD for release) to
     * {@code to}; HELD has no next attempt time, a released recipient is due at {@code now}. Empty when the message is
     * not queued; otherwise how many recipients moved from each state.
     */
    static Optional<Map<RecipientState, Integer>> move(Connection c, QueueId id, Set<RecipientState> from,
            RecipientState to, Instant now) throws SQLException {
        if (LeaseRows.lockMessage(c, id).isEmpty()) {
            return Optional.empty();
        }
        Map<RecipientState, Integer> moved = new EnumMap<>(RecipientState.class);
        for (RecipientState state : from) {
            try (PreparedStatement p = c.prepareStatement("UPDATE recipient SET state = ?, next_attempt_at = ?,"
                    + " lease_until = NULL, lease_owner = NULL WHERE message_id = ? AND state = ?" + NOT_LEASED)) {
                p.setString(1, to.name());
                p.setObject(2, to == RecipientState.HELD ? null : now);
                p.setString(3, id.value());
                p.setString(4, state.name());
                p.setObject(5, now);
                int n = p.executeUpdate();
                if (n > 0) {
                    moved.put(state, n);
                }
            }
        }
        return Optional.of(moved);
    }

    /**
     * Leases every pending recipient of the message (HELD ones included) that is not under a running lease, for
     * {@code owner} until {@code until}. A HELD recipient keeps no next attempt time, so it stays out of the due scan.
     */
    static List<Lease> leaseMessage(Connection c, QueueId id, Instant now, Instant until, String owner)
            throws SQLException {
        Optional<Long> size = LeaseRows.lockMessage(c, id);
        if (size.isEmpty()) {
            return List.of();
        }
        Instant receivedAt;
        try (PreparedStatement p = c.prepareStatement("SELECT received_at FROM message WHERE id = ?")) {
            p.setString(1, id.value());
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                receivedAt = rs.getObject(1, Instant.class);
            }
        }
        List<Lease> leases = new ArrayList<>();
        try (PreparedStatement select = c.prepareStatement("SELECT id, address, domain, dsn_notify, orcpt, attempts,"
                + " state, last_attempt_at FROM recipient WHERE message_id = ?"
                + " AND state IN " + StateSql.PENDING + NOT_LEASED + " ORDER BY position");
             PreparedStatement claim = c.prepareStatement("UPDATE recipient SET lease_until = ?, lease_owner = ?,"
                     + " next_attempt_at = CASE WHEN state = 'HELD' THEN NULL ELSE ? END WHERE id = ?")) {
            select.setString(1, id.value());
            select.setObject(2, now);
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    long recipientId = rs.getLong(1);
                    claim.setObject(1, until);
                    claim.setString(2, owner);
                    claim.setObject(3, until);
                    claim.setLong(4, recipientId);
                    claim.addBatch();
                    leases.add(new Lease(recipientId, id, rs.getString(2), rs.getString(3), rs.getString(4),
                            rs.getString(5), rs.getInt(6), RecipientState.valueOf(rs.getString(7)), receivedAt,
                            rs.getObject(8, Instant.class), until, owner));
                }
            }
            if (!leases.isEmpty()) {
                claim.executeBatch();
            }
        }
        return leases;
    }

    /** The domains with a QUEUED or DEFERRED recipient, sorted. */
    static Set<String> pendingDomains(Connection c) throws SQLException {
        Set<String> domains = new TreeSet<>();
        try (PreparedStatement p = c.prepareStatement("SELECT DISTINCT domain FROM recipient"
                + " WHERE state IN " + StateSql.SCHEDULED);
             ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                domains.add(rs.getString(1));
            }
        }
        return domains;
    }

    /**
     * Recipients by domain and state, each domain's oldest pending message and its due recipients of messages received
     * at or before {@code expiringReceivedBefore} (none when null): two grouped scans.
     */
    static H2MailQueue.DomainSnapshot domainSnapshot(Connection c, Instant expiringReceivedBefore) throws SQLException {
        Map<String, Map<RecipientState, Long>> counts = new java.util.HashMap<>();
        try (PreparedStatement p = c.prepareStatement(
                "SELECT domain, state, COUNT(*) FROM recipient GROUP BY domain, state");
                ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                counts.computeIfAbsent(rs.getString(1), d -> new EnumMap<>(RecipientState.class))
                        .put(RecipientState.valueOf(rs.getString(2)), rs.getLong(3));
            }
        }
        Map<String, Instant> oldest = new java.util.HashMap<>();
        Map<String, Long> expiring = new java.util.HashMap<>();
        // the expiring count rides on the scan the oldest message needs: no second join
        try (PreparedStatement p = c.prepareStatement("SELECT r.domain, MIN(m.received_at),"
                + " SUM(CASE WHEN r.state IN " + StateSql.SCHEDULED + " AND m.received_at <= ? THEN 1 ELSE 0 END)"
                + " FROM recipient r JOIN message m ON m.id = r.message_id WHERE r.state IN " + StateSql.PENDING
                + " GROUP BY r.domain")) {
            p.setObject(1, expiringReceivedBefore == null ? Instant.EPOCH.minusSeconds(1) : expiringReceivedBefore);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    oldest.put(rs.getString(1), rs.getObject(2, Instant.class));
                    expiring.put(rs.getString(1), rs.getLong(3));
                }
            }
        }
        return new H2MailQueue.DomainSnapshot(counts, oldest, expiring);
    }
}
