package org.backstopmx.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.backstopmx.core.QueueException;
import org.backstopmx.testkit.MutableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SchemaMigratorTest {
    @TempDir
    Path dir;
    final MutableClock clock = MutableClock.startingAt("2026-03-01T10:00:00Z");

    @Test
    void everyScriptInTheResourcesIsListedInOrder() throws Exception {
        Path migrations = Path.of(getClass().getClassLoader().getResource(SchemaMigrator.RESOURCE_DIR).toURI());
        List<String> files;
        try (var list = Files.list(migrations)) {
            files = list.map(p -> p.getFileName().toString()).sorted(
                    java.util.Comparator.comparingInt(SchemaMigrator::versionOf)).toList();
        }
        assertThat(SchemaMigrator.SCRIPTS).containsExactlyElementsOf(files);
        assertThat(SchemaMigrator.versionOf(files.get(0))).isEqualTo(1);
        for (int i = 1; i < files.size(); i++) {
            // a number may be left free (V4), never used twice
            assertThat(SchemaMigrator.versionOf(files.get(i))).isGreaterThan(SchemaMigrator.versionOf(files.get(i - 1)));
        }
    }

    @Test
    void statementsAreSplitAndCommentsDropped() {
        assertThat(SchemaMigrator.statements("-- head\nCREATE TABLE a (x INT); -- why\n\nCREATE INDEX b ON a (x);\n"))
                .containsExactly("CREATE TABLE a (x INT)", "CREATE INDEX b ON a (x)");
    }

    @Test
    void theSchemaIsAppliedOnceAndRecorded() throws Exception {
        H2MailQueue.open(TestMessages.config(dir), TestMessages.MAX_MESSAGE_SIZE, clock).close();
        H2MailQueue.open(TestMessages.config(dir), TestMessages.MAX_MESSAGE_SIZE, clock).close();
        try (Connection c = connect(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT version, script FROM schema_version ORDER BY version")) {
            for (String script : SchemaMigrator.SCRIPTS) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(SchemaMigrator.versionOf(script));
                assertThat(rs.getString(2)).isEqualTo(script);
            }
            assertThat(rs.next()).isFalse();
        }
    }

    /** A queue written by the release before SMTPUTF8 support: upgraded in place, its messages need no extension. */
    @Test
    void aVersion1QueueIsUpgradedAndItsMessagesNeedNoExtension() throws Exception {
        try (Connection c = connect(); Statement s = c.createStatement();
                var in = getClass().getClassLoader().getResourceAsStream(SchemaMigrator.RESOURCE_DIR + "V1__queue.sql")) {
            s.execute("CREATE TABLE schema_version (version INT NOT NULL PRIMARY KEY, script VARCHAR(200) NOT NULL,"
                    + " applied_at TIMESTAMP(9) WITH TIME ZONE NOT NULL)");
            for (String sql : SchemaMigrator.statements(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8))) {
                s.execute(sql);
            }
            s.execute("INSERT INTO schema_version VALUES (1, 'V1__queue.sql', CURRENT_TIMESTAMP)");
            s.execute("INSERT INTO message (id, received_at, sender, size) VALUES ('0123456789ABCDEF', CURRENT_TIMESTAMP,"
                    + " 'a@example.net', 0)");
            s.execute("INSERT INTO recipient (message_id, position, address, domain, state, next_attempt_at)"
                    + " VALUES ('0123456789ABCDEF', 0, 'b@example.org', 'example.org', 'QUEUED', CURRENT_TIMESTAMP)");
        }
        try (Connection c = connect()) {
            assertThat(SchemaMigrator.migrate(c, clock)).isEqualTo(1);
            assertThat(SchemaMigrator.currentVersion(c)).isEqualTo(SchemaMigrator.latestVersion());
            assertThat(MessageRows.envelope(c, new org.backstopmx.core.QueueId("0123456789ABCDEF")).orElseThrow()
                    .extensions()).isEmpty();
            try (Statement s = c.createStatement()) {
                s.execute("SHUTDOWN");
            }
        }
    }

    @Test
    void aNewerSchemaIsRefused() throws Exception {
        H2MailQueue.open(TestMessages.config(dir), TestMessages.MAX_MESSAGE_SIZE, clock).close();
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO schema_version VALUES (99, 'V99__future.sql', CURRENT_TIMESTAMP)");
            s.execute("SHUTDOWN");
        }
        assertThatThrownBy(() -> H2MailQueue.open(TestMessages.config(dir), TestMessages.MAX_MESSAGE_SIZE, clock))
                .isInstanceOf(QueueException.class).hasMessageContaining("schema version 99");
    }

    /** README, "The queue on H2": the due-work query must read the next_attempt_at index in order, alone. */
    @Test
    void dueWorkUsesTheNextAttemptIndexAndNoCompositeExists() throws Exception {
        H2MailQueue.open(TestMessages.config(dir), TestMessages.MAX_MESSAGE_SIZE, clock).close();
        try (Connection c = connect()) {
            try (PreparedStatement p = c.prepareStatement("EXPLAIN SELECT id FROM recipient"
                    + " WHERE next_attempt_at <= CURRENT_TIMESTAMP AND state IN ('QUEUED', 'DEFERRED')"
                    + " ORDER BY next_attempt_at LIMIT 100"); ResultSet rs = p.executeQuery()) {
                rs.next();
                assertThat(rs.getString(1)).contains("RECIPIENT_DUE").contains("index sorted");
            }
            List<String> indexedWithState = new ArrayList<>();
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT INDEX_NAME FROM"
                    + " INFORMATION_SCHEMA.INDEX_COLUMNS WHERE TABLE_NAME = 'RECIPIENT' AND COLUMN_NAME = 'STATE'")) {
                while (rs.next()) {
                    indexedWithState.add(rs.getString(1));
                }
            }
            assertThat(indexedWithState).isEmpty();
            try (Statement s = c.createStatement()) {
                s.execute("SHUTDOWN");
            }
        }
    }

    private Connection connect() throws Exception {
        return DriverManager.getConnection(QueueDatabase.url(dir.toAbsolutePath()), QueueDatabase.USER, "");
    }
}
