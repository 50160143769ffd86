package org.backstopmx.queue.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;
import org.backstopmx.testkit.PostgresServer;
import org.backstopmx.testkit.TcpProxy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A write into a connection whose packets are dropped blocks however long the driver's socket timeout is (that one
 * bounds reads only); the watchdog ends it. A statement far larger than the socket buffers is sent through a
 * blackholed {@link TcpProxy} to a real PostgreSQL: it fails with a connection error soon after the limit.
 */
class WatchdogTest {
    private static final Duration LIMIT = Duration.ofSeconds(2);

    @Test
    @Timeout(120) // without the watchdog the write would wait for the partition's end
    void aWriteBlockedByAPartitionIsEndedAtTheLimit() throws Exception {
        TestDatabase db = TestDatabase.create();
        PostgresServer server = TestDatabase.server();
        String url = db.settings("watchdog").url();
        try (TcpProxy link = TcpProxy.to(server.port()); Watchdog watchdog = new Watchdog("test-watchdog", LIMIT)) {
            Properties p = new Properties();
            p.setProperty("user", PostgresServer.USER);
            p.setProperty("socketTimeout", "600"); // far beyond the test: only the watchdog can end the write
            try (Connection c = DriverManager.getConnection(url.replace(":" + server.port() + "/", ":" + link.port()
                    + "/"), p)) {
                try (PreparedStatement s = c.prepareStatement("SELECT length(?)")) {
                    s.setBytes(1, new byte[1]);
                    s.executeQuery().close(); // the path works
                }
                link.blackhole();
                long started = System.nanoTime();
                try (Watchdog.Watch w = watchdog.watch(c, "a large write");
                        PreparedStatement s = c.prepareStatement("SELECT length(?)")) {
                    s.setBytes(1, new byte[64 * 1024 * 1024]);
                    assertThatThrownBy(s::executeQuery).isInstanceOf(SQLException.class)
                            .satisfies(e -> assertThat(PostgresDatabase.kindOf(e))
                                    .isEqualTo(org.backstopmx.core.QueueException.Kind.UNAVAILABLE));
                }
                Duration took = Duration.ofNanos(System.nanoTime() - started);
                System.out.printf("watchdog: a write blocked by a partition ended after %d ms (limit %d ms)%n",
                        took.toMillis(), LIMIT.toMillis());
                assertThat(took).isBetween(LIMIT, LIMIT.plusSeconds(10));
                link.heal();
            }
        }
    }
}
