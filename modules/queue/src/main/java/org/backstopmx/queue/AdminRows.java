package org.backstopmx.queue;

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
     * not queued; otherwise the domains of the recipients moved from each state (one entry per recipient).
     */
    static Optional<Map<RecipientState, List<String>>> move(Connection c, QueueId id, Set<RecipientState> from,
            RecipientState to, Instant now) throws SQLException {
        if (LeaseRows.lockMessage(c, id).isEmpty()) {
            return Optional.empty();
        }
        Map<RecipientState, List<String>> moved = new EnumMap<>(RecipientState.class);
        for (RecipientState state : from) {
            try (PreparedStatement p = c.prepareStatement("SELECT domain FROM OLD TABLE (UPDATE recipient"
                    + " SET state = ?, next_attempt_at = ?, lease_until = NULL, lease_owner = NULL"
                    + " WHERE message_id = ? AND state = ?" + NOT_LEASED + ")")) {
                p.setString(1, to.name());
                p.setObject(2, to == RecipientState.HELD ? null : now);
                p.setString(3, id.value());
                p.setString(4, state.name());
                p.setObject(5, now);
                List<String> domains = new ArrayList<>();
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        domains.add(rs.getString(1));
                    }
                }
                if (!domains.isEmpty()) {
                    moved.put(state, domains);
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

    /** How many messages the oldest-first walk of {@link #domainSnapshot} reads per query. */
    private static final int WALK_BATCH = 256;

    /**
     * The recipients by domain and state ({@code counts}, from the counters), each domain's oldest pending message and
     * its due recipients of messages received at or before {@code expiringReceivedBefore} (none when null).
     *
     * <p>The oldest come from a walk of the messages oldest first (the primary key is arrival order) that stops once
     * every domain with mail pending has met its own: in the usual queue, where every domain gets mail, a few messages.
     * XXX: a domain whose mail is all much newer than the rest makes the walk read every message before its oldest.
     * The expiring count is one range of {@code recipient_message}: the queue ids of messages received by then sort
     * first (their first 11 digits are the arrival time), so its cost is that of the mail about to expire.
     */
    static H2MailQueue.DomainSnapshot domainSnapshot(Connection c, Map<String, Map<RecipientState, Long>> counts,
            Instant expiringReceivedBefore) throws SQLException {
        Set<String> wanted = new TreeSet<>();
        counts.forEach((domain, states) -> {
            if (states.entrySet().stream().anyMatch(e -> e.getKey().isPending() && e.getValue() > 0)) {
                wanted.add(domain);
            }
        });
        Map<String, Instant> oldest = new HashMap<>();
        String after = "";
        try (PreparedStatement p = c.prepareStatement("SELECT id, received_at FROM message WHERE id > ? ORDER BY id"
                + " LIMIT " + WALK_BATCH);
                PreparedStatement r = c.prepareStatement("SELECT DISTINCT domain FROM recipient WHERE message_id = ?"
                        + " AND state IN " + StateSql.PENDING)) {
            boolean more = true;
            while (more && oldest.size() < wanted.size()) {
                p.setString(1, after);
                int messages = 0;
                try (ResultSet m = p.executeQuery()) {
                    while (m.next() && oldest.size() < wanted.size()) {
                        messages++;
                        after = m.getString(1);
                        r.setString(1, after);
                        try (ResultSet d = r.executeQuery()) {
                            while (d.next()) {
                                oldest.putIfAbsent(d.getString(1), m.getObject(2, Instant.class));
                            }
                        }
                    }
                }
                more = messages == WALK_BATCH;
            }
        }
        oldest.keySet().retainAll(wanted);
        Map<String, Long> expiring = new HashMap<>();
        wanted.forEach(d -> expiring.put(d, 0L));
        if (expiringReceivedBefore != null && !expiringReceivedBefore.isBefore(Instant.EPOCH)) {
            try (PreparedStatement p = c.prepareStatement("SELECT domain, COUNT(*) FROM recipient"
                    + " WHERE message_id <= ? AND state IN " + StateSql.SCHEDULED + " GROUP BY domain")) {
                p.setString(1, String.format("%011XFFFFF", expiringReceivedBefore.toEpochMilli() & 0xFFFFFFFFFFFL));
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        if (wanted.contains(rs.getString(1))) {
                            expiring.put(rs.getString(1), rs.getLong(2));
                        }
                    }
                }
            }
        }
        return new H2MailQueue.DomainSnapshot(counts, oldest, expiring);
    }
}
