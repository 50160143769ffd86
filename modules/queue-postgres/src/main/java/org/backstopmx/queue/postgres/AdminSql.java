package org.backstopmx.queue.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.backstopmx.core.DomainGauges;
import org.backstopmx.core.Lease;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.RecipientState;

/**
 * The SQL of the admin commands ({@code queue hold|release|bounce|flush}), from any node. A recipient whose attempt is
 * running under a lease, on whichever node, is never touched: its outcome is recorded as usual.
 */
final class AdminSql {
    /** Not under a running lease at {@code now}. */
    private static final String NOT_LEASED = " AND (lease_until IS NULL OR lease_until <= ?)";

    private AdminSql() {
    }

    /**
     * Moves the message's recipients in {@code from} to {@code to} (HELD without a next attempt, QUEUED due at
     * {@code now}). Empty when the message is not queued, otherwise how many moved.
     */
    static Optional<Integer> move(Connection c, QueueId id, Set<RecipientState> from, RecipientState to, Instant now)
            throws SQLException {
        if (!LeaseSql.lockMessage(c, id)) {
            return Optional.empty();
        }
        try (PreparedStatement p = c.prepareStatement("UPDATE recipient SET state = ?, next_attempt_at = ?,"
                + " " + LeaseSql.NO_LEASE + " WHERE message_id = ? AND state = ANY (?)" + NOT_LEASED)) {
            p.setString(1, to.name());
            Times.set(p, 2, to == RecipientState.HELD ? null : now);
            p.setString(3, id.value());
            p.setArray(4, c.createArrayOf("varchar", from.stream().map(Enum::name).toArray()));
            Times.set(p, 5, now);
            return Optional.of(p.executeUpdate());
        }
    }

    /**
     * Leases every pending recipient of the message not under a running lease, for node {@code owner} until
     * {@code until} under a new token; a HELD one keeps no next attempt time, so it stays out of the due index.
     */
    static List<Lease> leaseMessage(Connection c, QueueId id, Instant now, Instant until, String owner)
            throws SQLException {
        if (!LeaseSql.lockMessage(c, id)) {
            return List.of();
        }
        record Positioned(int position, Lease lease) {
        }
        List<Positioned> leased = new ArrayList<>();
        String token = LeaseSql.newToken();
        try (PreparedStatement p = c.prepareStatement("UPDATE recipient r SET lease_until = ?, lease_owner = ?,"
                + " lease_token = ?, next_attempt_at = CASE WHEN r.state = 'HELD' THEN NULL ELSE ? END FROM message m"
                + " WHERE m.id = r.message_id AND r.message_id = ? AND r.state IN " + LeaseSql.PENDING
                + " AND (r.lease_until IS NULL OR r.lease_until <= ?)"
                + " RETURNING r.position, r.id, r.address, r.domain, r.dsn_notify, r.orcpt, r.attempts, r.state,"
                + " m.received_at, r.last_attempt_at")) {
            Times.set(p, 1, until);
            p.setString(2, owner);
            p.setString(3, token);
            Times.set(p, 4, until);
            p.setString(5, id.value());
            Times.set(p, 6, now);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    leased.add(new Positioned(rs.getInt(1), new Lease(rs.getLong(2), id, rs.getString(3),
                            rs.getString(4), rs.getString(5), rs.getString(6), rs.getInt(7),
                            RecipientState.valueOf(rs.getString(8)), Times.get(rs, 9), Times.get(rs, 10),
                            Times.micros(until), token)));
                }
            }
        }
        leased.sort(java.util.Comparator.comparingInt(Positioned::position));
        return leased.stream().map(Positioned::lease).toList();
    }

    /**
     * Makes every due-state recipient of {@code domain} due at {@code now}, except those under a running lease;
     * returns how many of the domain are in a due state at all.
     */
    static int flush(Connection c, String domain, Instant now) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE recipient SET next_attempt_at = ?"
                + " WHERE domain = ? AND state IN " + LeaseSql.SCHEDULED + " AND next_attempt_at > ?" + NOT_LEASED)) {
            Times.set(p, 1, now);
            p.setString(2, domain);
            Times.set(p, 3, now);
            Times.set(p, 4, now);
            p.executeUpdate();
        }
        try (PreparedStatement p = c.prepareStatement("SELECT COUNT(*) FROM recipient WHERE domain = ?"
                + " AND state IN " + LeaseSql.SCHEDULED)) {
            p.setString(1, domain);
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /**
     * Every node's pending mail per domain: its recipients by state, and when the oldest message with one of them
     * pending was received. Two grouped scans of the recipient table: for {@code stats}, never for a scrape.
     */
    static PostgresMailQueue.ByDomain byDomain(Connection c) throws SQLException {
        Map<String, Map<RecipientState, Long>> counts = new HashMap<>();
        try (PreparedStatement p = c.prepareStatement("SELECT domain, state, COUNT(*) FROM recipient WHERE state IN "
                + LeaseSql.PENDING + " GROUP BY domain, state");
                ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                counts.computeIfAbsent(rs.getString(1), d -> new EnumMap<>(RecipientState.class))
                        .put(RecipientState.valueOf(rs.getString(2)), rs.getLong(3));
            }
        }
        Map<String, Instant> oldest = new HashMap<>();
        try (PreparedStatement p = c.prepareStatement("SELECT r.domain, MIN(m.received_at) FROM recipient r"
                + " JOIN message m ON m.id = r.message_id WHERE r.state IN " + LeaseSql.PENDING + " GROUP BY r.domain");
                ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                oldest.put(rs.getString(1), Times.get(rs, 2));
            }
        }
        return new PostgresMailQueue.ByDomain(counts, oldest);
    }

    /**
     * How far apart two nodes' clocks may be, and a message's queue id (drawn as its DATA begins) and its receipt
     * time: only messages whose id is at most this much younger than the limit are looked at for the expiring count.
     */
    private static final Duration ID_SLACK = Duration.ofHours(1);

    /**
     * Every node's pending mail per domain, for the gauges: recipients by state; the oldest message with one pending
     * (the smallest queue id, as ids sort by arrival); and the due ones (QUEUED, DEFERRED) of messages received at or
     * before {@code expiringReceivedBefore}. One grouped scan of the pending recipients without a join, one look-up
     * per domain by primary key, and a join over the old messages only (a range of the primary key): run every
     * metrics refresh on a thread of its own (measured in {@code PostgresDomainFiguresTest} at 10^5 recipients).
     */
    static DomainGauges.Figures figures(Connection c, Instant expiringReceivedBefore) throws SQLException {
        Map<String, Map<RecipientState, Long>> counts = new HashMap<>();
        Map<String, String> first = new HashMap<>();
        try (PreparedStatement p = c.prepareStatement("SELECT domain, state, COUNT(*), MIN(message_id) FROM recipient"
                + " WHERE state IN " + LeaseSql.PENDING + " GROUP BY domain, state");
                ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                counts.computeIfAbsent(rs.getString(1), d -> new EnumMap<>(RecipientState.class))
                        .put(RecipientState.valueOf(rs.getString(2)), rs.getLong(3));
                first.merge(rs.getString(1), rs.getString(4), (a, b) -> a.compareTo(b) <= 0 ? a : b);
            }
        }
        Map<String, Instant> receivedAt = new HashMap<>();
        try (PreparedStatement p = c.prepareStatement("SELECT id, received_at FROM message WHERE id = ANY (?)")) {
            p.setArray(1, c.createArrayOf("varchar", first.values().toArray()));
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    receivedAt.put(rs.getString(1), Times.get(rs, 2));
                }
            }
        }
        Map<String, Instant> oldest = new HashMap<>();
        first.forEach((domain, id) -> {
            Instant at = receivedAt.get(id);
            if (at != null) { // null: finished between the two queries
                oldest.put(domain, at);
            }
        });
        Map<String, Long> expiring = new HashMap<>();
        Instant limit = Times.micros(expiringReceivedBefore);
        String idBound = String.format("%011X%05X", limit.plus(ID_SLACK).toEpochMilli() & 0xFFFFFFFFFFFL, 0xFFFFF);
        try (PreparedStatement p = c.prepareStatement("SELECT r.domain, COUNT(*) FROM message m JOIN recipient r"
                + " ON r.message_id = m.id WHERE m.id <= ? AND m.received_at <= ? AND r.state IN "
                + LeaseSql.SCHEDULED + " GROUP BY r.domain")) {
            p.setString(1, idBound);
            Times.set(p, 2, limit);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    expiring.put(rs.getString(1), rs.getLong(2));
                }
            }
        }
        return new DomainGauges.Figures(counts, oldest, expiring);
    }

    /** The domains with a QUEUED or DEFERRED recipient, sorted. */
    static Set<String> pendingDomains(Connection c) throws SQLException {
        Set<String> domains = new TreeSet<>();
        try (PreparedStatement p = c.prepareStatement("SELECT DISTINCT domain FROM recipient WHERE state IN "
                + LeaseSql.SCHEDULED);
                ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                domains.add(rs.getString(1));
            }
        }
        return domains;
    }
}
