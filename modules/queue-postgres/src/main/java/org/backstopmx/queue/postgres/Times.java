package org.backstopmx.queue.postgres;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;

/**
 * Instants in and out of {@code timestamptz}. PostgreSQL keeps microseconds and the driver takes
 * {@link OffsetDateTime}, not {@link Instant}; every time the queue writes or compares goes through {@link #micros}
 * first, so a lease's end read back equals the one handed out (the compare-and-set matches on it).
 */
final class Times {
    private Times() {
    }

    static Instant micros(Instant t) {
        return t == null ? null : t.truncatedTo(ChronoUnit.MICROS);
    }

    static void set(PreparedStatement p, int index, Instant t) throws SQLException {
        p.setObject(index, t == null ? null : OffsetDateTime.ofInstant(micros(t), ZoneOffset.UTC));
    }

    static Instant get(ResultSet rs, int index) throws SQLException {
        OffsetDateTime t = rs.getObject(index, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }
}
