package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.PostgresServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shared queue's database goes away under two running nodes (PostgreSQL stopped, fast mode: its sessions are
 * cut) and comes back on the same data. While it is away, neither node answers 250: the transaction is refused with
 * {@code 451 4.3.0}, and {@code /health/ready} is 503 on both ({@code /health/live} stays 200). When it is back, both
 * take mail again without a restart (250, ready 200), and what was accepted before the outage, and after it, is
 * delivered once.
 */
class SharedQueueDatabaseDownThenUpTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private PostgresServer postgres;
    private FakePrimaryMx primary;
    private Appliance a;
    private Appliance b;

    @AfterEach
    void stop() {
        SharedQueueNode.closeAll(a, b, primary, postgres);
    }

    @Test
    void neitherNodeAnswers250WhileTheDatabaseIsAwayAndBothResumeWhenItIsBack() throws Exception {
        long started = System.nanoTime();
        postgres = PostgresServer.start();
        String url = postgres.jdbcUrl(postgres.createDatabase());
        Path password = SharedQueueNode.passwordFile(dir);
        primary = FakePrimaryMx.start();
        primary.stop(); // down: what the nodes accept stays queued until the end
        a = Appliance.start(SharedQueueNode.config(dir, primary.port(), url, password, "node-a",
                SharedQueueNode.LEASE, 5), Clock.systemUTC());
        b = Appliance.start(SharedQueueNode.config(dir, primary.port(), url, password, "node-b",
                SharedQueueNode.LEASE, 5), Clock.systemUTC());
        SharedQueueNode.send(a, "before");
        assertThat(SharedQueueNode.ready(a)).startsWith("200");

        postgres.stop();
        for (Appliance node : List.of(a, b)) {
            List<String> replies = SharedQueueNode.tryToSend(node, "during-" + node.config().hostname(), 30_000);
            assertThat(replies).as("%s while the database is away", node.config().hostname())
                    .noneMatch(r -> r.startsWith("250 2.0.0"))
                    .last().asString().startsWith("451 4.3.0");
            assertThat(SharedQueueNode.ready(node)).startsWith("503 not ready: the queue does not take mail: ");
            // its loops still turn: an orchestrator's liveness probe does not restart it while the database is away
            assertThat(SharedQueueNode.live(node)).startsWith("200");
        }

        postgres.restart(); // the same data, the same port: the nodes' pools reconnect by themselves
        for (Appliance node : List.of(a, b)) {
            await().atMost(WAIT).until(() -> SharedQueueNode.ready(node).startsWith("200"));
        }
        SharedQueueNode.send(a, "after-a");
        SharedQueueNode.send(b, "after-b");

        primary.restart();
        await().atMost(WAIT).until(() -> SharedQueueNode.deliveries(primary).size() == 3
                && a.queue().list(10).isEmpty());
        Map<String, Integer> delivered = SharedQueueNode.deliveries(primary);
        assertThat(delivered).containsOnlyKeys("before bob@example.test", "after-a bob@example.test",
                "after-b bob@example.test").allSatisfy((k, n) -> assertThat(n).as(k).isEqualTo(1));
        System.out.printf("database down then up: 3 delivered once each, in %d s%n",
                Duration.ofNanos(System.nanoTime() - started).toSeconds());
    }

}
