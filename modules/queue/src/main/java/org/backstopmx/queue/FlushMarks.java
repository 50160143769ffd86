package org.backstopmx.queue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The flushes in progress (ETRN, a destination back up, {@code queue flush DOMAIN}), one per domain: a row in
 * {@code flush_mark} says which, and the claim walks the domain's recipients in arrival order from the mark's cursor
 * ({@link ClaimRows}), leasing each pending one once, instead of the flush rewriting every recipient row of the domain
 * (the cost of which grew with the backlog: 11.7 s at 100 000 recipients, on the ETRN client's time). The walk compares
 * no times, so a recipient deferred again after the flush is not walked again, however the clock moves.
 *
 * <p>The row, cursor included, is written in the claim's transaction, so a flush survives a restart as the rewritten
 * rows did and its walk goes on where it was. A new flush of a domain being walked starts its walk again. Thread-safe.
 */
final class FlushMarks {
    /** A flush in progress, from {@code flushedAt}: the recipients of the domain after id {@code walkedTo} are due. */
    record Mark(Instant flushedAt, long walkedTo) {
    }

    private final Map<String, Mark> marks = new ConcurrentHashMap<>();

    /** Reads the marks of the previous run (at open, and after a reopen of a database H2 had closed). */
    void load(Connection c) throws SQLException {
        marks.clear();
        try (PreparedStatement p = c.prepareStatement("SELECT domain, flushed_at, walked_to FROM flush_mark");
                ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                marks.put(rs.getString(1), new Mark(rs.getObject(2, Instant.class), rs.getLong(3)));
            }
        }
    }

    /** Writes the mark for the caller's transaction; {@link #flushed} follows once it has committed. */
    static void write(Connection c, String domain, Instant at) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("MERGE INTO flush_mark (domain, flushed_at, walked_to)"
                + " KEY (domain) VALUES (?, ?, 0)")) {
            p.setString(1, domain);
            p.setObject(2, at);
            p.executeUpdate();
        }
    }

    /** Moves the mark's cursor on, unless a newer flush of the domain replaced it meanwhile. */
    static void advance(Connection c, String domain, Mark mark, long walkedTo) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE flush_mark SET walked_to = ?"
                + " WHERE domain = ? AND flushed_at = ? AND walked_to < ?")) {
            p.setLong(1, walkedTo);
            p.setString(2, domain);
            p.setObject(3, mark.flushedAt());
            p.setLong(4, walkedTo);
            p.executeUpdate();
        }
    }

    /** Removes the mark, unless a newer flush of the domain replaced it meanwhile. */
    static void delete(Connection c, String domain, Instant flushedAt) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("DELETE FROM flush_mark WHERE domain = ? AND flushed_at = ?")) {
            p.setString(1, domain);
            p.setObject(2, flushedAt);
            p.executeUpdate();
        }
    }

    void flushed(String domain, Instant at) {
        marks.put(domain, new Mark(at, 0));
    }

    /** The marks now, for one claim. */
    Map<String, Mark> snapshot() {
        return Map.copyOf(marks);
    }

    boolean any() {
        return !marks.isEmpty();
    }

    /**
     * After a claim's walk of {@code domain} under {@code walked} has committed: the walk reached {@code cursor}, or,
     * when empty, found nothing left, so the mark goes (unless a newer flush replaced it).
     */
    void walked(String domain, Mark walked, OptionalLong cursor) {
        if (cursor.isPresent()) {
            marks.computeIfPresent(domain, (d, m) -> m.flushedAt().equals(walked.flushedAt())
                    && cursor.getAsLong() > m.walkedTo() ? new Mark(m.flushedAt(), cursor.getAsLong()) : m);
        } else {
            marks.computeIfPresent(domain, (d, m) -> m.flushedAt().equals(walked.flushedAt()) ? null : m);
        }
    }
}
