package org.backstopmx.queue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import org.backstopmx.core.Lease;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.RecipientState;

/**
 * The SQL of the claim: which recipients are due, and the compare-and-set that leases them. Stateless, like
 * {@link LeaseRows}: the caller owns the transaction, and applies {@link Claimed#walks} to its {@link FlushMarks} once
 * it has committed.
 *
 * <p>Three sources, each an index range whose cost does not grow with the backlog: the due-work query
 * ({@link #DUE}, on {@code recipient_due}); when some destinations are passed over (their lanes are full), the same
 * query once per other domain with mail ({@link #DUE_IN_DOMAIN}, on {@code recipient_domain}) instead of a walk over
 * every due row of the full lanes; and the walk of each flushed domain ({@link #FLUSHED}, on
 * {@code recipient_domain_walk} from the walk's cursor).
 */
final class ClaimRows {
    private static final String COLUMNS = "SELECT id, message_id, address, domain, dsn_notify, orcpt, attempts, state,"
            + " next_attempt_at, last_attempt_at FROM recipient";

    /**
     * The due-work query. It filters on state in the WHERE clause and orders by {@code next_attempt_at} alone, so H2
     * reads the {@code recipient_due} index in order and stops at the LIMIT (see V1__queue.sql); a test checks the
     * plan with EXPLAIN.
     */
    static final String DUE = COLUMNS + " WHERE next_attempt_at <= ? AND state IN " + StateSql.SCHEDULED
            + " ORDER BY next_attempt_at LIMIT ?";

    /**
     * One domain's due recipients, in due order: a range of {@code recipient_domain} read in order up to the LIMIT (a
     * test checks the plan). The ORDER BY names the domain although it is fixed: H2 reads the index in order only when
     * the ORDER BY is a prefix of it, and otherwise collects and sorts the whole range.
     */
    static final String DUE_IN_DOMAIN = COLUMNS + " WHERE domain = ? AND next_attempt_at <= ? AND state IN "
            + StateSql.SCHEDULED + " ORDER BY domain, next_attempt_at LIMIT ?";

    /**
     * A flushed domain's QUEUED and DEFERRED recipients not leased, in arrival order after the walk's cursor: a range of
     * {@code recipient_domain_walk}, each row read once per flush. Ordered like {@link #DUE_IN_DOMAIN}, for the same
     * reason.
     */
    static final String FLUSHED = COLUMNS + " WHERE domain = ? AND id > ? AND state IN " + StateSql.SCHEDULED
            + " AND (lease_until IS NULL OR lease_until <= ?) ORDER BY domain, id LIMIT ?";

    /**
     * The claim, a compare-and-set: only a recipient still due and pending is moved. A concurrent claim of the same
     * row waits for the row lock, then H2 evaluates the condition again on the committed row, which is no longer due.
     */
    private static final String CLAIM = "UPDATE recipient SET next_attempt_at = ?, lease_until = ?, lease_owner = ?"
            + " WHERE id = ? AND state IN " + StateSql.SCHEDULED + " AND next_attempt_at <= ?";

    /** The claim of a row the flush made due: the walk's condition again, under the row lock. */
    private static final String CLAIM_FLUSHED = "UPDATE recipient SET next_attempt_at = ?, lease_until = ?,"
            + " lease_owner = ? WHERE id = ? AND state IN " + StateSql.SCHEDULED
            + " AND (lease_until IS NULL OR lease_until <= ?)";

    private ClaimRows() {
    }

    /** What a claim won, and how far it walked each flushed domain (empty: nothing left, the flush is done). */
    record Claimed(List<Lease> leases, Map<String, Walk> walks) {
    }

    /** One flushed domain's walk in a claim: the mark it walked under and the cursor reached (empty at the end). */
    record Walk(FlushMarks.Mark mark, OptionalLong cursor) {
    }

    /** A due recipient as read before the claim; {@code walked} when a flush's walk found it. */
    private record Due(long id, String messageId, String address, String domain, String dsnNotify, String orcpt,
            int attempts, RecipientState state, Instant nextAttemptAt, Instant lastAttemptAt, boolean walked) {
    }

    /**
     * Claims up to {@code max} due recipients for {@code owner} until {@code until}; returns the leases won, grouped by
     * domain (domains in the order of their oldest due recipient), due order within a domain.
     */
    static List<Lease> claim(Connection c, int max, Instant now, Instant until, String owner) throws SQLException {
        return claim(c, max, now, until, owner, Set.of(), Set.of(), Map.of()).leases();
    }

    /**
     * As {@link #claim(Connection, int, Instant, Instant, String)}, passing over the domains in {@code skip}, then
     * filling what room is left from the flushed domains' walks.
     *
     * @param domains the domains with QUEUED or DEFERRED recipients (from the counters): asked one by one when
     *                {@code skip} is not empty
     * @param flushed the flushes in progress
     */
    static Claimed claim(Connection c, int max, Instant now, Instant until, String owner, Set<String> skip,
            Collection<String> domains, Map<String, FlushMarks.Mark> flushed) throws SQLException {
        List<Due> due = new ArrayList<>();
        if (skip.isEmpty()) {
            read(c, DUE, false, p -> {
                p.setObject(1, now);
                p.setInt(2, max);
            }, due);
        } else {
            for (String domain : domains) {
                if (!skip.contains(domain)) {
                    read(c, DUE_IN_DOMAIN, false, p -> {
                        p.setString(1, domain);
                        p.setObject(2, now);
                        p.setInt(3, max);
                    }, due);
                }
            }
            due.sort(Comparator.comparing(Due::nextAttemptAt));
            if (due.size() > max) {
                due.subList(max, due.size()).clear();
            }
        }
        Map<String, Walk> walks = new LinkedHashMap<>();
        for (Map.Entry<String, FlushMarks.Mark> e : flushed.entrySet()) {
            int room = max - due.size();
            if (room <= 0) {
                break;
            }
            if (skip.contains(e.getKey())) {
                continue;
            }
            FlushMarks.Mark mark = e.getValue();
            int before = due.size();
            read(c, FLUSHED, true, p -> {
                p.setString(1, e.getKey());
                p.setLong(2, mark.walkedTo());
                p.setObject(3, now);
                p.setInt(4, room);
            }, due);
            if (due.size() - before < room) {
                FlushMarks.delete(c, e.getKey(), mark.flushedAt());
                walks.put(e.getKey(), new Walk(mark, OptionalLong.empty()));
            } else {
                long walkedTo = due.get(due.size() - 1).id();
                FlushMarks.advance(c, e.getKey(), mark, walkedTo);
                walks.put(e.getKey(), new Walk(mark, OptionalLong.of(walkedTo)));
            }
        }
        return new Claimed(lease(c, due, now, until, owner), walks);
    }

    private interface Binder {
        void bind(PreparedStatement p) throws SQLException;
    }

    private static void read(Connection c, String sql, boolean walked, Binder binder, List<Due> into)
            throws SQLException {
        try (PreparedStatement p = c.prepareStatement(sql)) {
            binder.bind(p);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    into.add(new Due(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                            rs.getString(6), rs.getInt(7), RecipientState.valueOf(rs.getString(8)),
                            rs.getObject(9, Instant.class), rs.getObject(10, Instant.class), walked));
                }
            }
        }
    }

    /** The compare-and-sets of {@code due}, and the leases of the rows won, grouped by domain. */
    private static List<Lease> lease(Connection c, List<Due> due, Instant now, Instant until, String owner)
            throws SQLException {
        if (due.isEmpty()) {
            return List.of();
        }
        boolean[] won = new boolean[due.size()];
        try (PreparedStatement plain = c.prepareStatement(CLAIM);
                PreparedStatement walked = c.prepareStatement(CLAIM_FLUSHED)) {
            List<Integer> plainRows = new ArrayList<>();
            List<Integer> walkedRows = new ArrayList<>();
            for (int i = 0; i < due.size(); i++) {
                Due d = due.get(i);
                PreparedStatement p = d.walked() ? walked : plain;
                p.setObject(1, until);
                p.setObject(2, until);
                p.setString(3, owner);
                p.setLong(4, d.id());
                p.setObject(5, now);
                (d.walked() ? walkedRows : plainRows).add(i);
                p.addBatch();
            }
            mark(plainRows.isEmpty() ? new int[0] : plain.executeBatch(), plainRows, won);
            mark(walkedRows.isEmpty() ? new int[0] : walked.executeBatch(), walkedRows, won);
        }
        Map<String, Instant> receivedAt = new HashMap<>();
        Map<String, List<Lease>> byDomain = new LinkedHashMap<>();
        try (PreparedStatement p = c.prepareStatement("SELECT received_at FROM message WHERE id = ?")) {
            for (int i = 0; i < due.size(); i++) {
                if (!won[i]) {
                    continue;
                }
                Due d = due.get(i);
                Instant received = receivedAt.get(d.messageId());
                if (received == null) {
                    p.setString(1, d.messageId());
                    try (ResultSet rs = p.executeQuery()) {
                        rs.next(); // the foreign key guarantees the row
                        received = rs.getObject(1, Instant.class);
                    }
                    receivedAt.put(d.messageId(), received);
                }
                byDomain.computeIfAbsent(d.domain(), k -> new ArrayList<>()).add(new Lease(d.id(),
                        new QueueId(d.messageId()), d.address(), d.domain(), d.dsnNotify(), d.orcpt(), d.attempts(),
                        d.state(), received, d.lastAttemptAt(), until, owner));
            }
        }
        List<Lease> leases = new ArrayList<>();
        byDomain.values().forEach(leases::addAll);
        return leases;
    }

    private static void mark(int[] counts, List<Integer> rows, boolean[] won) {
        for (int i = 0; i < counts.length; i++) {
            won[rows.get(i)] = counts[i] == 1;
        }
    }
}
