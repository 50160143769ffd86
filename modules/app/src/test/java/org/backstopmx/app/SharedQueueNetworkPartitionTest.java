package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.PostgresServer;
import org.backstopmx.testkit.SmtpTranscript;
import org.backstopmx.testkit.TcpProxy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shared queue's database is cut off by a network partition: its packets are dropped, nothing is refused or
 * closed ({@link TcpProxy} between both nodes and a real PostgreSQL, blackholed). While it lasts, neither node
 * answers 250: each step that needs the database is answered {@code 451 4.3.0} well within the minutes a sender waits
 * (RFC 5321 §4.5.3.2), a message half received when the packets stopped included; {@code /health/ready} is 503 on
 * both and {@code /health/live} 200; every thread that was waiting on the database when the partition began comes back
 * from it. When the partition ends, both nodes take mail again without a restart, and every message answered 250,
 * before or after, is delivered exactly once.
 */
class SharedQueueNetworkPartitionTest {
    private static final Duration WAIT = Duration.ofSeconds(90);
    /**
     * The longest any reply may take during the partition: a connection within 5 s (a pooled one checked within 2 s),
     * a statement's reply within 30 s, a blocked write aborted at 45 s, and room for a loaded machine; a sender waits 5
     * minutes for MAIL and 10 for the end of DATA.
     */
    private static final int REPLY_BOUND_MS = 75_000;
    /** The driver's stream to the server: a thread with it on its stack reads from or writes to the database. */
    private static final String DRIVER_IO = "org.postgresql.core.PGStream";

    @TempDir
    Path dir;

    private PostgresServer postgres;
    private TcpProxy link;
    private FakePrimaryMx primary;
    private Appliance a;
    private Appliance b;

    @AfterEach
    void stop() {
        SharedQueueNode.closeAll(a, b, primary, link, postgres);
    }

    @Test
    void neitherNodeAnswers250DuringAPartitionAndBothResumeWhenItEnds() throws Exception {
        long started = System.nanoTime();
        postgres = PostgresServer.start();
        String database = postgres.createDatabase();
        link = TcpProxy.to(postgres.port());
        String url = "jdbc:postgresql://127.0.0.1:" + link.port() + "/" + database;
        Path password = SharedQueueNode.passwordFile(dir);
        primary = FakePrimaryMx.start();
        primary.stop(); // down: what the nodes accept stays queued until the end
        a = Appliance.start(SharedQueueNode.config(dir, primary.port(), url, password, "node-a",
                SharedQueueNode.LEASE, 5), Clock.systemUTC());
        b = Appliance.start(SharedQueueNode.config(dir, primary.port(), url, password, "node-b",
                SharedQueueNode.LEASE, 5), Clock.systemUTC());
        SharedQueueNode.send(a, "before-a");
        SharedQueueNode.send(b, "before-b");

        try (SmtpTranscript large = new SmtpTranscript(a.smtpAddress(), REPLY_BOUND_MS)) {
            // a message of several 256 KiB chunks is being received when the packets stop: its connection is lent
            startLargeMessage(large);
            link.blackhole();
            long cut = System.nanoTime();
            large.sendRaw(lines(600)); // another chunk or two, written into the partitioned connection
            Set<Long> waiting = new HashSet<>();
            await().atMost(Duration.ofSeconds(20)).until(() -> waiting.addAll(threadsWaitingOnTheDatabase())
                    && !waiting.isEmpty());
            long t = System.nanoTime();
            assertThat(large.command(".")).as("the message half received at the partition").startsWith("451 4.3.0");
            System.out.printf("partition: the message under way got 451 after %d ms%n", millisSince(t));

            for (Appliance node : List.of(a, b)) {
                t = System.nanoTime();
                List<String> replies = SharedQueueNode.tryToSend(node, "during-" + node.config().hostname(),
                        REPLY_BOUND_MS);
                assertThat(replies).as("%s during the partition", node.config().hostname())
                        .noneMatch(r -> r.startsWith("250 2.0.0"))
                        .last().asString().startsWith("451 4.3.0");
                System.out.printf("partition: %s answered %s after %d ms%n", node.config().hostname(),
                        replies.get(replies.size() - 1), millisSince(t));
                t = System.nanoTime();
                assertThat(SharedQueueNode.ready(node)).startsWith("503 not ready: the queue does not take mail: ");
                System.out.printf("partition: %s ready 503 after %d ms%n", node.config().hostname(), millisSince(t));
                assertThat(SharedQueueNode.live(node)).startsWith("200");
            }
            // nothing waits on the database for ever: each thread that was is seen out of the driver within the bound
            awaitAllLeaveTheDriver(waiting, Duration.ofMillis(REPLY_BOUND_MS));
            System.out.printf("partition: %d threads waiting on the database at its start all came back; %d s"
                    + " into the partition%n", waiting.size(), Duration.ofNanos(System.nanoTime() - cut).toSeconds());
        }

        link.heal();
        long healed = System.nanoTime();
        for (Appliance node : List.of(a, b)) {
            await().atMost(WAIT).until(() -> SharedQueueNode.ready(node).startsWith("200"));
        }
        System.out.printf("partition over: both nodes ready again after %d ms%n", millisSince(healed));
        SharedQueueNode.send(a, "after-a");
        SharedQueueNode.send(b, "after-b");

        primary.restart();
        await().atMost(WAIT).until(() -> SharedQueueNode.deliveries(primary).size() == 4
                && a.queue().list(10).isEmpty());
        Map<String, Integer> delivered = SharedQueueNode.deliveries(primary);
        assertThat(delivered).containsOnlyKeys("before-a bob@example.test", "before-b bob@example.test",
                "after-a bob@example.test", "after-b bob@example.test")
                .allSatisfy((k, n) -> assertThat(n).as(k).isEqualTo(1));
        System.out.printf("network partition: 4 delivered once each, in %d s%n",
                Duration.ofNanos(System.nanoTime() - started).toSeconds());
    }

    private static void startLargeMessage(SmtpTranscript s) throws Exception {
        s.reply();
        s.command("EHLO client.test");
        assertThat(s.command("MAIL FROM:<alice@sender.test>")).startsWith("250");
        assertThat(s.command("RCPT TO:<bob@example.test>")).startsWith("250");
        assertThat(s.command("DATA")).startsWith("354");
        s.sendRaw("From: alice@sender.test\r\nSubject: test large\r\n\r\n" + lines(400));
        s.socket().getOutputStream().flush();
    }

    /** {@code n} lines of 1 000 characters: about {@code n} KB. */
    private static String lines(int n) {
        String line = "x".repeat(998) + "\r\n";
        return line.repeat(n);
    }


    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** The threads of this JVM (both nodes) in the driver's I/O now. */
    private static Set<Long> threadsWaitingOnTheDatabase() {
        Set<Long> ids = new HashSet<>();
        for (ThreadInfo info : THREADS.dumpAllThreads(false, false)) {
            if (inDriverIo(info)) {
                ids.add(info.getThreadId());
            }
        }
        return ids;
    }

    private static boolean inDriverIo(ThreadInfo info) {
        return info != null && Arrays.stream(info.getStackTrace())
                .anyMatch(f -> f.getClassName().startsWith(DRIVER_IO));
    }

    /** Waits until each of {@code ids} has been seen once out of the driver's I/O (or ended). */
    private static void awaitAllLeaveTheDriver(Set<Long> ids, Duration bound) {
        Map<Long, String> left = new HashMap<>();
        await().atMost(bound).pollInterval(Duration.ofMillis(100)).until(() -> {
            for (long id : ids) {
                ThreadInfo info = THREADS.getThreadInfo(id, Integer.MAX_VALUE);
                if (!inDriverIo(info)) {
                    left.put(id, info == null ? "ended" : info.getThreadState().toString());
                }
            }
            return left.keySet().containsAll(ids);
        });
    }

    private static long millisSince(long nanos) {
        return Duration.ofNanos(System.nanoTime() - nanos).toMillis();
    }
}
