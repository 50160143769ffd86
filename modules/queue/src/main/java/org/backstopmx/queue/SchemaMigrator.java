package org.backstopmx.queue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates and upgrades the schema from the ordered scripts in {@code db/migration/}, recording each applied version in
 * {@code schema_version} (the Flyway convention, without Flyway: a handful of scripts does not need a library).
 *
 * <p>Scripts are listed here rather than discovered, because a class path inside a jar cannot be listed portably;
 * a test checks that this list and the resource directory agree.
 */
final class SchemaMigrator {
    private static final Logger LOG = LoggerFactory.getLogger(SchemaMigrator.class);
    static final String RESOURCE_DIR = "db/migration/";
    static final List<String> SCRIPTS = List.of("V1__queue.sql", "V2__extensions.sql", "V3__recipient_cache.sql",
            "V4__backlog.sql", "V5__greylist.sql", "V6__spf.sql");
    private static final Pattern NAME = Pattern.compile("V(\\d+)__\\w+\\.sql");

    private SchemaMigrator() {
    }

    /** The schema version this code expects. */
    static int latestVersion() {
        return versionOf(SCRIPTS.get(SCRIPTS.size() - 1));
    }

    /**
     * Brings the schema up to {@link #latestVersion()}, recording each script applied at {@code clock}'s time; returns
     * the version found before.
     *
     * @throws SQLException also when the database is newer than this code, which must not touch it
     */
    static int migrate(Connection c, Clock clock) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS schema_version ("
                    + "version INT NOT NULL PRIMARY KEY, script VARCHAR(200) NOT NULL,"
                    + " applied_at TIMESTAMP(9) WITH TIME ZONE NOT NULL)");
        }
        int found = currentVersion(c);
        if (found > latestVersion()) {
            throw new SQLException("the queue database has schema version " + found + " but this Backstop knows only up to "
                    + latestVersion() + "; it was written by a newer release");
        }
        java.util.Set<Integer> applied = appliedVersions(c);
        for (String script : SCRIPTS) {
            int version = versionOf(script);
            // by what is recorded, not by the highest version: a number may be left free for a script that comes
            // in later, and a database that has the scripts after it must still get it
            if (applied.contains(version)) {
                continue;
            }
            // XXX: H2 commits each DDL statement on its own, so a crash inside a script leaves it half applied and
            // the next start fails on the first statement; the fix is manual (the scripts are short and readable).
            try (Statement s = c.createStatement()) {
                for (String sql : statements(load(script))) {
                    s.execute(sql);
                }
            }
            try (PreparedStatement p = c.prepareStatement(
                    "INSERT INTO schema_version (version, script, applied_at) VALUES (?, ?, ?)")) {
                p.setInt(1, version);
                p.setString(2, script);
                p.setObject(3, clock.instant());
                p.executeUpdate();
            }
            LOG.info("queue schema: applied {}", script);
        }
        return found;
    }

    private static java.util.Set<Integer> appliedVersions(Connection c) throws SQLException {
        java.util.Set<Integer> versions = new java.util.HashSet<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT version FROM schema_version")) {
            while (rs.next()) {
                versions.add(rs.getInt(1));
            }
        }
        return versions;
    }

    static int currentVersion(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT COALESCE(MAX(version), 0) FROM schema_version")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    static int versionOf(String script) {
        Matcher m = NAME.matcher(script);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a migration script name: " + script);
        }
        return Integer.parseInt(m.group(1));
    }

    /** Splits a script into statements: drops {@code --} comments, splits at {@code ;}. Enough for our own scripts. */
    static List<String> statements(String script) {
        StringBuilder text = new StringBuilder();
        for (String line : script.split("\n", -1)) {
            int comment = line.indexOf("--");
            text.append(comment >= 0 ? line.substring(0, comment) : line).append('\n');
        }
        List<String> result = new ArrayList<>();
        for (String part : text.toString().split(";")) {
            if (!part.isBlank()) {
                result.add(part.trim());
            }
        }
        return result;
    }

    private static String load(String script) {
        try (InputStream in = SchemaMigrator.class.getClassLoader().getResourceAsStream(RESOURCE_DIR + script)) {
            if (in == null) {
                throw new IllegalStateException("migration script missing from the class path: " + script);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
