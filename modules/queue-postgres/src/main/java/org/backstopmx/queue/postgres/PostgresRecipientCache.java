package org.backstopmx.queue.postgres;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.RecipientCache;

/**
 * The recipient cache in the shared database, table {@code recipient_cache} (schema version 2): what one node learns
 * by a callout or a delivery, every node believes. Writes commit without waiting for the WAL flush (as the H2 queue
 * does not fsync them on their own): a database crash can lose the answers of its last moments, which the next
 * callout or delivery learns again. Thread-safe.
 */
final class PostgresRecipientCache implements RecipientCache {
    private static final String COLUMNS = "address, valid, reply, learned_at, expires_at, source";
    private static final int MAX_REPLY = 1000;

    private final PostgresDatabase db;
    private final BooleanSupplier closed;

    PostgresRecipientCache(PostgresDatabase db, BooleanSupplier closed) {
        this.db = db;
        this.closed = closed;
    }

    @Override
    public Optional<Entry> lookup(String address, Instant now) throws QueueException {
        return call("recipient cache look-up", false, c -> {
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT " + COLUMNS + " FROM recipient_cache WHERE address = ? AND expires_at > ?")) {
                p.setString(1, address.toLowerCase(Locale.ROOT));
                Times.set(p, 2, now);
                try (ResultSet rs = p.executeQuery()) {
                    return rs.next() ? Optional.of(entry(rs)) : Optional.<Entry>empty();
                }
            }
        });
    }

    @Override
    public void put(Entry entry) throws QueueException {
        putAll(List.of(entry));
    }

    @Override
    public int putAll(List<Entry> entries) throws QueueException {
        return call("recipient cache update", true, c -> {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO recipient_cache (" + COLUMNS + ", domain)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (address) DO UPDATE SET valid = excluded.valid,"
                    + " reply = excluded.reply, learned_at = excluded.learned_at, expires_at = excluded.expires_at,"
                    + " source = excluded.source, domain = excluded.domain")) {
                for (Entry e : entries) {
                    String reply = e.reply() == null || e.reply().length() <= MAX_REPLY ? e.reply()
                            : e.reply().substring(0, MAX_REPLY);
                    p.setString(1, e.address().toLowerCase(Locale.ROOT));
                    p.setBoolean(2, e.valid());
                    p.setString(3, reply);
                    Times.set(p, 4, e.learnedAt());
                    Times.set(p, 5, e.expiresAt());
                    p.setString(6, e.source().name());
                    p.setString(7, e.domain().toLowerCase(Locale.ROOT));
                    p.addBatch();
                }
                p.executeBatch();
            }
            return entries.size();
        });
    }

    @Override
    public boolean forget(String address) throws QueueException {
        return call("recipient cache forget", true, c -> {
            try (PreparedStatement p = c.prepareStatement("DELETE FROM recipient_cache WHERE address = ?")) {
                p.setString(1, address.toLowerCase(Locale.ROOT));
                return p.executeUpdate() > 0;
            }
        });
    }

    @Override
    public List<Entry> list(String domain, Instant now, int limit) throws QueueException {
        return call("recipient cache listing", false, c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT " + COLUMNS + " FROM recipient_cache"
                    + " WHERE expires_at > ? AND (CAST(? AS varchar) IS NULL OR domain = ?) ORDER BY address LIMIT ?")) {
                String d = domain == null ? null : domain.toLowerCase(Locale.ROOT);
                Times.set(p, 1, now);
                p.setString(2, d);
                p.setString(3, d);
                p.setInt(4, limit);
                List<Entry> out = new ArrayList<>();
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        out.add(entry(rs));
                    }
                }
                return out;
            }
        });
    }

    @Override
    public Map<String, Long> sizeByDomain(Instant now) throws QueueException {
        return call("recipient cache sizes", true, c -> {
            try (PreparedStatement p = c.prepareStatement("DELETE FROM recipient_cache WHERE expires_at <= ?")) {
                Times.set(p, 1, now);
                p.executeUpdate();
            }
            Map<String, Long> out = new TreeMap<>();
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT domain, COUNT(*) FROM recipient_cache GROUP BY domain");
                    ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getLong(2));
                }
            }
            return out;
        });
    }

    private static Entry entry(ResultSet rs) throws SQLException {
        return new Entry(rs.getString(1), rs.getBoolean(2), rs.getString(3), Times.get(rs, 4), Times.get(rs, 5),
                Source.valueOf(rs.getString(6)));
    }

    private <T> T call(String what, boolean write, PostgresDatabase.SqlWork<T> work) throws QueueException {
        if (closed.getAsBoolean()) {
            throw new QueueException(QueueException.Kind.UNAVAILABLE, what + ": the queue is closed");
        }
        try {
            return write ? db.scheduleChange(work) : db.read(work);
        } catch (SQLException | RuntimeException e) {
            throw PostgresDatabase.failure(what, e);
        }
    }
}
