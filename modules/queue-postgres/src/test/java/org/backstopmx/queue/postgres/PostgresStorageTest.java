package org.backstopmx.queue.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.QueueId;
import org.backstopmx.testkit.MutableClock;
import org.backstopmx.testkit.PostgresServer;
import org.junit.jupiter.api.Test;

/** How the PostgreSQL queue stores what the contract does not see: body chunks, commit durability, the node's name. */
class PostgresStorageTest {
    private final MutableClock clock = MutableClock.startingAt("2026-03-01T10:00:00Z");
    private final TestDatabase db = TestDatabase.create();

    @Test
    void aBodyIsStoredInChunksOf256KiBWrittenAsDataArrives() throws Exception {
        try (PostgresMailQueue queue = db.open("node-a", clock); Connection c = connect()) {
            QueueId id = QueueId.next(clock);
            try (IncomingMessage m = queue.receive(id)) {
                OutputStream out = m.body();
                out.write(new byte[ChunkedIncomingMessage.CHUNK + 1000]);
                // the first chunk is in the database before the end of DATA, in the message's open transaction
                assertThat(queue.activeDatabaseConnections()).isEqualTo(1);
                out.write(new byte[ChunkedIncomingMessage.CHUNK + 1000]);
                m.commit(new Envelope(id, clock.instant(), "192.0.2.7", "h", "s@example.net", null, null,
                        2L * ChunkedIncomingMessage.CHUNK + 2000, List.of(EnvelopeRecipient.of("r@example.org"))));
            }
            assertThat(queue.activeDatabaseConnections()).isZero();
            assertThat(chunkSizes(c, id)).containsExactly(262_144, 262_144, 2000);
            assertThat(query(c, "SELECT received_by FROM message")).containsExactly("node-a");
        }
    }

    @Test
    void everyCommitWaitsForTheWalWhateverTheDatabaseDefault() throws Exception {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute("ALTER DATABASE " + c.getCatalog() + " SET synchronous_commit = off");
        }
        try (PostgresDatabase pool = PostgresDatabase.open(db.settings("node-a"))) {
            List<String> setting = pool.read(c -> query(c, "SHOW synchronous_commit"));
            assertThat(setting).containsExactly("on");
        }
        try (Connection c = connect()) {
            assertThat(query(c, "SHOW synchronous_commit")).containsExactly("off"); // what the queue overrode
        }
    }

    private Connection connect() throws Exception {
        return DriverManager.getConnection(db.settings("test").url(), PostgresServer.USER, null);
    }

    private static List<Integer> chunkSizes(Connection c, QueueId id) throws Exception {
        List<Integer> sizes = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT length(data) FROM body_chunk"
                + " WHERE message_id = '" + id + "' ORDER BY seq")) {
            while (rs.next()) {
                sizes.add(rs.getInt(1));
            }
        }
        return sizes;
    }

    private static List<String> query(Connection c, String sql) throws java.sql.SQLException {
        List<String> rows = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                rows.add(rs.getString(1));
            }
        }
        return rows;
    }
}
