package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.PostgresServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two appliances (each its own JVM) on one queue in PostgreSQL, the primary up but slow, and sending servers that
 * never pause sending to node A; node A is killed with SIGKILL in the middle of that traffic, while it holds leases
 * (the kill waits until the database shows some, and until enough 250s are in). Every message node A answered
 * {@code 250} for reaches the primary, none is lost: node B delivers what A had not, and takes the recipients A
 * held leases on once those leases have run out ({@code queue.lease-time} 1 minute, as short as validation allows;
 * node A renewed them until it died). A message whose delivery A made but did not record may arrive twice
 * (at-least-once); those are counted, not failed. The figures are printed.
 */
class SharedQueueNodeKilledUnderLoadIT {
    private static final int SENDERS = 6;
    /** 250s from node A before it may be killed. */
    private static final int MIN_ACKNOWLEDGED = 300;
    private static final Duration LEASE = Duration.ofMinutes(1);
    private static final Duration LOAD_LIMIT = Duration.ofSeconds(90);
    private static final Duration DRAIN_LIMIT = Duration.ofMinutes(3);

    @TempDir
    Path dir;

    @Test
    void everyMessageTheKilledNodeAnswered250IsDeliveredByTheOther() throws Exception {
        long started = System.nanoTime();
        try (PostgresServer postgres = PostgresServer.start(); FakePrimaryMx primary = FakePrimaryMx.start()) {
            String url = postgres.jdbcUrl(postgres.createDatabase());
            Path password = SharedQueueNode.passwordFile(dir);
            // the primary takes a moment over each message, so that mail piles up and node A always holds leases
            primary.answer((verb, arg) -> {
                if (verb.equals("DOT")) {
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return null;
            });
            Path configA = writeConfig("node-a", url, password, primary.port());
            Path configB = writeConfig("node-b", url, password, primary.port());
            try (BackstopProcess b = BackstopProcess.serve(configB, "-Xmx256m")) {
                Map<String, ContinuousSenders.Ack> acked;
                Map<String, Instant> leasedByA;
                ContinuousSenders senders = ContinuousSenders.start(SENDERS, "bob@example.test");
                long killedAt;
                try (BackstopProcess a = BackstopProcess.serve(configA, "-Xmx256m")) {
                    senders.aim(a.smtp(), 1);
                    awaitOrFail(() -> (senders.acknowledgedCount() >= MIN_ACKNOWLEDGED
                            && !leasedBy(url, "node-a").isEmpty()) || !a.isAlive(), LOAD_LIMIT,
                            () -> "node A got " + senders.acknowledgedCount() + " 250s and held "
                                    + leasedBy(url, "node-a").size() + " leases in " + LOAD_LIMIT + "\n" + a.output());
                    assertThat(a.isAlive()).as("node A died by itself:%n%s", a.output()).isTrue();
                    a.kill();
                    killedAt = System.nanoTime();
                    leasedByA = leasedBy(url, "node-a");
                } finally {
                    senders.close();
                }
                assertThat(senders.crashed()).isEmpty();
                acked = senders.acknowledged();
                long load = killedAt - started;

                awaitOrFail(() -> deliveredAll(primary, acked.keySet()) && rows(url, "message") == 0, DRAIN_LIMIT,
                        () -> "node B did not drain the queue in " + DRAIN_LIMIT + ": " + rows(url, "message")
                                + " messages left\n" + b.output());
                long drained = System.nanoTime();
                Map<String, Integer> deliveries = SharedQueueNode.deliveries(primary);
                Map<String, String> tokenOf = acked.values().stream()
                        .collect(Collectors.toMap(ContinuousSenders.Ack::queueId, ContinuousSenders.Ack::token));
                Set<String> heldTokens = leasedByA.keySet().stream().map(tokenOf::get).collect(Collectors.toSet());
                // when node B first delivered each message
                Map<String, Instant> deliveredByB = primary.transactions().stream()
                        .filter(t -> t.client().equals("node-b.it.test"))
                        .collect(Collectors.toMap(SharedQueueNode::tagOf, FakePrimaryMx.Transaction::at,
                                (x, y) -> x.isBefore(y) ? x : y));
                List<String> early = leasedByA.entrySet().stream().filter(e -> deliveredByB.containsKey(
                        tokenOf.get(e.getKey())) && deliveredByB.get(tokenOf.get(e.getKey())).isBefore(e.getValue()))
                        .map(e -> e.getKey() + " lease until " + e.getValue() + ", delivered by node B at "
                                + deliveredByB.get(tokenOf.get(e.getKey()))).toList();
                long byA = primary.transactions().stream().filter(t -> t.client().equals("node-a.it.test")).count();
                long lost = acked.keySet().stream().filter(t -> !deliveries.containsKey(key(t))).count();
                long duplicates = deliveries.values().stream().mapToLong(n -> n - 1).sum();
                String report = String.format("SIGKILL of a node under load, shared queue: %d senders to node A,"
                        + " killed after %d ms%n  answered 250 by node A:          %d%n"
                        + "  delivered (distinct messages):    %d%n  lost (250 but never delivered):   %d%n"
                        + "  duplicates (extra deliveries):    %d%n  deliveries by node A / node B:    %d / %d%n"
                        + "  leased by node A at its kill:     %d, all delivered by node B: %s%n"
                        + "  node B drained the rest in %d ms (lease %d s); %d s in all%n", SENDERS,
                        TimeUnit.NANOSECONDS.toMillis(load), acked.size(), deliveries.size(), lost, duplicates, byA,
                        primary.transactions().size() - byA, leasedByA.size(),
                        deliveredByB.keySet().containsAll(heldTokens),
                        TimeUnit.NANOSECONDS.toMillis(drained - killedAt), LEASE.toSeconds(),
                        TimeUnit.NANOSECONDS.toSeconds(drained - started));
                System.out.print(report);
                if (lost > 0) {
                    fail(report + "lost: " + acked.values().stream().filter(x -> !deliveries.containsKey(key(
                            x.token()))).map(x -> x.queueId() + " " + x.token()).toList());
                }
                assertThat(leasedByA).as(report).isNotEmpty();
                assertThat(heldTokens).as("the messages node A held leases on at its kill, in its 250s")
                        .doesNotContainNull();
                assertThat(deliveredByB.keySet()).as("node B delivered every message node A held a lease on")
                        .containsAll(heldTokens);
                assertThat(early).as("node B delivered none of them before its lease ran out").isEmpty();
                assertThat(b.stop()).as(b.output()).isZero();
            }
        }
    }

    private static String key(String token) {
        return token + " bob@example.test";
    }

    private static boolean deliveredAll(FakePrimaryMx primary, Set<String> tokens) {
        Map<String, Integer> d = SharedQueueNode.deliveries(primary);
        return tokens.stream().allMatch(t -> d.containsKey(key(t)));
    }

    /** The queue ids of the messages with a recipient leased by {@code node} now, with the lease's end. */
    private static Map<String, Instant> leasedBy(String url, String node) throws Exception {
        Map<String, Instant> ids = new TreeMap<>();
        try (Connection c = DriverManager.getConnection(url, PostgresServer.USER, "");
                PreparedStatement p = c.prepareStatement("SELECT message_id, MIN(lease_until) FROM recipient"
                        + " WHERE lease_owner = ? GROUP BY message_id")) {
            p.setString(1, node);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    ids.put(rs.getString(1), rs.getObject(2, OffsetDateTime.class).toInstant());
                }
            }
        }
        return ids;
    }

    private static long rows(String url, String table) throws Exception {
        try (Connection c = DriverManager.getConnection(url, PostgresServer.USER, "");
                PreparedStatement p = c.prepareStatement("SELECT COUNT(*) FROM " + table);
                ResultSet rs = p.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @FunctionalInterface
    private interface Condition {
        boolean met() throws Exception;
    }

    @FunctionalInterface
    private interface Why {
        String get() throws Exception;
    }

    /** Polls {@code condition} often (for the kill: so that it lands close to the moment the condition held). */
    private static void awaitOrFail(Condition condition, Duration limit, Why why) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.met()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(why.get());
            }
            Thread.sleep(5);
        }
    }

    private Path writeConfig(String node, String url, Path password, int primaryPort) throws Exception {
        Path config = dir.resolve(node + ".yaml");
        Files.writeString(config, "hostname: " + node + ".it.test\n"
                + "smtp:\n  listen: 127.0.0.1:0\n"
                + "domains:\n  example.test:\n    route: 127.0.0.1:" + primaryPort + "\n"
                + "queue:\n  path: " + dir.resolve(node) + "\n  type: postgresql\n  url: " + url + "\n"
                + "  username: " + PostgresServer.USER + "\n  password-file: " + password + "\n"
                + "  node-id: " + node + "\n  lease-time: " + LEASE.toSeconds() + "s\n"
                // short attempts: a session the kill cut off is not waited for
                + "delivery:\n  concurrency: 2\n  connect-timeout: 1s\n  command-timeout: 1s\n  data-timeout: 1s\n"
                + "probe:\n  interval: 1s\n"
                + "metrics:\n  listen: 127.0.0.1:0\n"
                + "admin:\n  listen: 127.0.0.1:0\n"
                // no SPF lookups through the machine's resolver; the senders, all 127.0.0.1, are never rate-limited
                + "screen:\n  spf: off\n  rate:\n    connections-per-client: 0\n    connections-per-network: 0\n"
                + "    messages-per-client: 0\n    messages-per-network: 0\n");
        return config;
    }
}
