package org.backstopmx.queue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The flushes in progress (ETRN, a destination back up, {@code queue flush DOMAIN}), one per domain: a row in
 * {@code flush_mark} says when, and the claim walks the domain's recipients that were not attempted since
 * ({@link ClaimRows}), instead of the flush rewriting every recipient row of the domain (the cost of which grew with
 * the backlog: 11.7 s at 100 000 recipients, on the ETRN client's time).
 *
 * <p>The row makes a flush survive a restart, as the rewritten rows did; the walk's position (its cursor, the next
 * attempt time it reached in {@code recipient_domain}) is kept only here: after a restart the walk starts again from
 * the beginning, which costs one pass and changes nothing (what was attempted since the flush is passed over). A new
 * flush of a domain being walked starts its walk again. Thread-safe.
 */
final class FlushMarks {
    /** A flush in progress: every pending recipient of the domain not attempted since {@code flushedAt} is due. */
    record Mark(Instant flushedAt, Instant cursor) {
    }

    private final Map<String, Mark> marks = new ConcurrentHashMap<>();

    /** Reads the marks of the previous run (at open, and after a reopen of a database H2 had closed). */
    void load(Connection c) throws SQLException {
        marks.clear();
        try (PreparedStatement p = c.prepareStatement("SELECT domain, flushed_at FROM flush_mark");
                ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                Instant at = rs.getObject(2, Instant.class);
                marks.put(rs.getString(1), new Mark(at, Instant.MIN));
            }
        }
    }

    /** Writes the mark for the caller's transaction; {@link #flushed} follows once it has committed. */
    static void write(Connection c, String domain, Instant at) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("MERGE INTO flush_mark (domain, flushed_at) KEY (domain)"
                + " VALUES (?, ?)")) {
            p.setString(1, domain);
            p.setObject(2, at);
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
        marks.put(domain, new Mark(at, Instant.MIN));
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
    void walked(String domain, Mark walked, Optional<Instant> cursor) {
        if (cursor.isPresent()) {
            marks.computeIfPresent(domain, (d, m) -> m.flushedAt().equals(walked.flushedAt())
                    && cursor.get().isAfter(m.cursor()) ? new Mark(m.flushedAt(), cursor.get()) : m);
        } else {
            marks.computeIfPresent(domain, (d, m) -> m.flushedAt().equals(walked.flushedAt()) ? null : m);
        }
    }
}
