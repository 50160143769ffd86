package org.backstopmx.queue;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.Optional;
import org.backstopmx.core.Greylist;
import org.backstopmx.core.QueueException;

/**
 * The greylist in the queue's database, table {@code greylist} (schema version 5): one row per triplet.
 *
 * <p>As the recipient cache's, writes are committed but not fsynced on their own: a crash can lose the tries of the
 * last moments, whose senders are then deferred once more. Every call goes through the queue's life-cycle, so none
 * reaches a closed database; a database failure is a {@link QueueException}. Thread-safe.
 */
final class H2Greylist implements Greylist {
    /** The columns' width; the SMTP server never hands longer addresses (RFC 5321 §4.5.3.1), but a cut is harmless. */
    private static final int MAX_ADDRESS = 320;

    private final QueueDatabase db;
    private final Lifecycle lifecycle;

    H2Greylist(QueueDatabase db, Lifecycle lifecycle) {
        this.db = db;
        this.lifecycle = lifecycle;
    }

    @Override
    public Optional<Entry> lookup(Triplet t, Instant now) throws QueueException {
        return call("greylist look-up", c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT first_seen, passed_at, expires_at FROM greylist"
                    + " WHERE network = ? AND sender = ? AND recipient = ? AND expires_at > ?")) {
                p.setString(1, t.network());
                p.setString(2, cut(t.sender()));
                p.setString(3, cut(t.recipient()));
                p.setObject(4, now);
                try (ResultSet rs = p.executeQuery()) {
                    return rs.next() ? Optional.of(new Entry(t, rs.getObject(1, Instant.class),
                            rs.getObject(2, Instant.class), rs.getObject(3, Instant.class))) : Optional.<Entry>empty();
                }
            }
        }, false);
    }

    @Override
    public void put(Entry e) throws QueueException {
        call("greylist update", c -> {
            try (PreparedStatement p = c.prepareStatement("MERGE INTO greylist (network, sender, recipient, first_seen,"
                    + " passed_at, expires_at) KEY (network, sender, recipient) VALUES (?, ?, ?, ?, ?, ?)")) {
                p.setString(1, e.triplet().network());
                p.setString(2, cut(e.triplet().sender()));
                p.setString(3, cut(e.triplet().recipient()));
                p.setObject(4, e.firstSeen());
                p.setObject(5, e.passedAt());
                p.setObject(6, e.expiresAt());
                return p.executeUpdate();
            }
        }, true);
    }

    @Override
    public int prune(Instant now) throws QueueException {
        return call("greylist pruning", c -> {
            try (PreparedStatement p = c.prepareStatement("DELETE FROM greylist WHERE expires_at <= ?")) {
                p.setObject(1, now);
                return p.executeUpdate();
            }
        }, true);
    }

    private static String cut(String address) {
        return address.length() <= MAX_ADDRESS ? address : address.substring(0, MAX_ADDRESS);
    }

    private <T> T call(String what, QueueDatabase.SqlWork<T> work, boolean transaction) throws QueueException {
        return lifecycle.call(db, what, work, transaction);
    }
}
