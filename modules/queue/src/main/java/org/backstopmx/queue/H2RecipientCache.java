package org.backstopmx.queue;

import java.sql.Connection;
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
import org.backstopmx.core.QueueException;
import org.backstopmx.core.RecipientCache;

/**
 * The recipient cache in the queue's database, table {@code recipient_cache} (schema version 3): one row per address.
 *
 * <p>Writes are committed but not fsynced on their own (the next group commit or the clean close writes them): a
 * crash can lose the answers of the last moments, which the next callout or delivery learns again. Every call goes
 * through the queue's life-cycle, so none reaches a closed database; a database failure is a {@link QueueException}.
 * Thread-safe.
 */
final class H2RecipientCache implements RecipientCache {
    private static final String COLUMNS = "address, valid, reply, learned_at, expires_at, source";
    /** The column's width; a longer reply text is cut (it is only shown to clients and admins). */
    private static final int MAX_REPLY = 1000;

    private final QueueDatabase db;
    private final Lifecycle lifecycle;

    H2RecipientCache(QueueDatabase db, Lifecycle lifecycle) {
        this.db = db;
        this.lifecycle = lifecycle;
    }

    @Override
    public Optional<Entry> lookup(String address, Instant now) throws QueueException {
        return call("recipient cache look-up", c -> {
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT " + COLUMNS + " FROM recipient_cache WHERE address = ? AND expires_at > ?")) {
                p.setString(1, address.toLowerCase(Locale.ROOT));
                p.setObject(2, now);
                try (ResultSet rs = p.executeQuery()) {
                    return rs.next() ? Optional.of(entry(rs)) : Optional.<Entry>empty();
                }
            }
        }, false);
    }

    @Override
    public void put(Entry entry) throws QueueException {
        putAll(List.of(entry));
    }

    @Override
    public int putAll(List<Entry> entries) throws QueueException {
        return call("recipient cache update", c -> {
            try (PreparedStatement p = c.prepareStatement("MERGE INTO recipient_cache (" + COLUMNS
                    + ", domain) KEY (address) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
                for (Entry e : entries) {
                    String reply = e.reply() == null || e.reply().length() <= MAX_REPLY ? e.reply()
                            : e.reply().substring(0, MAX_REPLY);
                    p.setString(1, e.address().toLowerCase(Locale.ROOT));
                    p.setBoolean(2, e.valid());
                    p.setString(3, reply);
                    p.setObject(4, e.learnedAt());
                    p.setObject(5, e.expiresAt());
                    p.setString(6, e.source().name());
                    p.setString(7, e.domain().toLowerCase(Locale.ROOT));
                    p.addBatch();
                }
                p.executeBatch();
            }
            return entries.size();
        }, true);
    }

    @Override
    public boolean forget(String address) throws QueueException {
        return call("recipient cache forget", c -> {
            try (PreparedStatement p = c.prepareStatement("DELETE FROM recipient_cache WHERE address = ?")) {
                p.setString(1, address.toLowerCase(Locale.ROOT));
                return p.executeUpdate() > 0;
            }
        }, false);
    }

    @Override
    public List<Entry> list(String domain, Instant now, int limit) throws QueueException {
        return call("recipient cache listing", c -> {
            String where = domain == null ? "" : " AND domain = ?";
            try (PreparedStatement p = c.prepareStatement("SELECT " + COLUMNS + " FROM recipient_cache WHERE"
                    + " expires_at > ?" + where + " ORDER BY address LIMIT ?")) {
                int i = 1;
                p.setObject(i++, now);
                if (domain != null) {
                    p.setString(i++, domain.toLowerCase(Locale.ROOT));
                }
                p.setInt(i, limit);
                List<Entry> out = new ArrayList<>();
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        out.add(entry(rs));
                    }
                }
                return out;
            }
        }, false);
    }

    @Override
    public Map<String, Long> sizeByDomain(Instant now) throws QueueException {
        return call("recipient cache sizes", c -> {
            try (PreparedStatement p = c.prepareStatement("DELETE FROM recipient_cache WHERE expires_at <= ?")) {
                p.setObject(1, now);
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
        }, true);
    }

    private static Entry entry(ResultSet rs) throws SQLException {
        return new Entry(rs.getString(1), rs.getBoolean(2), rs.getString(3),
                rs.getObject(4, Instant.class), rs.getObject(5, Instant.class),
                Source.valueOf(rs.getString(6)));
    }

    private <T> T call(String what, QueueDatabase.SqlWork<T> work, boolean transaction) throws QueueException {
        return lifecycle.call(db, what, work, transaction);
    }
}
