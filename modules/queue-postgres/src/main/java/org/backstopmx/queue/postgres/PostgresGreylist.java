package org.backstopmx.queue.postgres;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.backstopmx.core.Greylist;
import org.backstopmx.core.QueueException;

/**
 * The greylist in the shared database, table {@code greylist} (schema version 3): a first try seen by one node and
 * its retry reaching another count as one triplet, as with a single node. Writes commit without waiting for the WAL
 * flush, as the recipient cache's: a database crash can lose the tries of its last moments, whose senders are then
 * deferred once more. Thread-safe.
 */
final class PostgresGreylist implements Greylist {
    /** The columns' width; the SMTP server never hands longer addresses (RFC 5321 §4.5.3.1), but a cut is harmless. */
    private static final int MAX_ADDRESS = 320;

    private final PostgresDatabase db;
    private final BooleanSupplier closed;

    PostgresGreylist(PostgresDatabase db, BooleanSupplier closed) {
        this.db = db;
        this.closed = closed;
    }

    @Override
    public Optional<Entry> lookup(Triplet t, Instant now) throws QueueException {
        return call("greylist look-up", false, c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT first_seen, passed_at, expires_at FROM greylist"
                    + " WHERE network = ? AND sender = ? AND recipient = ? AND expires_at > ?")) {
                p.setString(1, t.network());
                p.setString(2, cut(t.sender()));
                p.setString(3, cut(t.recipient()));
                Times.set(p, 4, now);
                try (ResultSet rs = p.executeQuery()) {
                    return rs.next() ? Optional.of(new Entry(t, Times.get(rs, 1), Times.get(rs, 2), Times.get(rs, 3)))
                            : Optional.<Entry>empty();
                }
            }
        });
    }

    @Override
    public void put(Entry e) throws QueueException {
        call("greylist update", true, c -> {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO greylist (network, sender, recipient,"
                    + " first_seen, passed_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (network, sender,"
                    + " recipient) DO UPDATE SET first_seen = excluded.first_seen, passed_at = excluded.passed_at,"
                    + " expires_at = excluded.expires_at")) {
                p.setString(1, e.triplet().network());
                p.setString(2, cut(e.triplet().sender()));
                p.setString(3, cut(e.triplet().recipient()));
                Times.set(p, 4, e.firstSeen());
                Times.set(p, 5, e.passedAt());
                Times.set(p, 6, e.expiresAt());
                return p.executeUpdate();
            }
        });
    }

    @Override
    public int prune(Instant now) throws QueueException {
        return call("greylist pruning", true, c -> {
            try (PreparedStatement p = c.prepareStatement("DELETE FROM greylist WHERE expires_at <= ?")) {
                Times.set(p, 1, now);
                return p.executeUpdate();
            }
        });
    }

    private static String cut(String address) {
        return address.length() <= MAX_ADDRESS ? address : address.substring(0, MAX_ADDRESS);
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
