package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.backstopmx.testkit.FakePrimaryMx;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An operator's worst day: the primary is down, six sending servers send without a pause, and the appliance (its
 * own JVM, one queue directory throughout) is killed with SIGKILL at a random moment in the middle of that traffic,
 * then started again on the same queue, round after round. When the primary is back at the last start (found by the
 * start's own probe, with no ETRN and no retry due), every message that was ever answered {@code 250 2.0.0 Ok: queued as <id>} reaches it, intact: none is lost. A
 * message whose 250 was cut by a kill is sent again by its sender and may arrive twice (at-least-once); those
 * duplicates are counted, not failed. The figures (answered 250, delivered, lost, duplicates, per round) are
 * printed, and a failure lists every lost message with its queue id.
 *
 * <p>Unlike {@link QueueSurvivesKillIT}, which kills right after the last 250 of a finished batch, the kill here
 * comes while group commits are under way: the case in which a commit that was answered 250 can still be lost.
 *
 * <p>The random moments come from a seed printed at the start; {@code -Dsigkill.seed=N} replays the same choices
 * (the timing of the traffic itself still varies).
 */
class NoAcknowledgedMailLostToSigkillIT {
    private static final int SENDERS = 6;
    private static final int ROUNDS = 15;
    /** 250s to collect in a round before it may end: 90 x 15 rounds = 1 350 in all, at the least. */
    private static final int MIN_PER_ROUND = 90;
    /** How long the appliance takes mail before its kill, counted from when it listens: a random time between. */
    private static final Duration MIN_LIFE = Duration.ofMillis(500);
    private static final Duration MAX_LIFE = Duration.ofSeconds(6);
    private static final Duration ROUND_LIMIT = Duration.ofSeconds(60);
    private static final Duration DRAIN_LIMIT = Duration.ofMinutes(3);
    /** With the queue empty and nothing new at the primary for this long, nothing more is coming. */
    private static final Duration SETTLED = Duration.ofSeconds(5);
    private static final Pattern MESSAGE_ID = Pattern.compile("^Message-ID: <([^@>]+)@sender\\.test>",
            Pattern.MULTILINE | Pattern.CASE_INSENSITIVE);
    private static final Pattern METRICS = Pattern.compile("metrics and health listening on ([^:\\s]+):(\\d+)");

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void everyMessageAnswered250IsDeliveredAfterRepeatedSigkillUnderLoad() throws Exception {
        long seed = Long.getLong("sigkill.seed", System.nanoTime());
        Random random = new Random(seed);
        System.out.println("SIGKILL under load: seed " + seed + " (-Dsigkill.seed=" + seed + " to replay the kills)");

        try (FakePrimaryMx primary = FakePrimaryMx.start()) {
            primary.stop(); // down: connections to its port are refused until restart()
            Path config = writeConfig(primary.port());
            List<Round> rounds = new ArrayList<>();
            long started = System.nanoTime();
            ContinuousSenders senders = ContinuousSenders.start(SENDERS, "bob@example.test");
            try {
                for (int n = 1; n <= ROUNDS; n++) {
                    rounds.add(sendAndKill(n, config, senders, random));
                }
            } finally {
                senders.close();
            }
            assertThat(senders.crashed()).isEmpty();
            Map<String, ContinuousSenders.Ack> acked = senders.acknowledged();
            assertThat(acked.size()).isGreaterThanOrEqualTo(1_000);
            long killed = System.nanoTime();

            // the primary came back while the appliance was down: the next start must find it by itself (no ETRN)
            // and hand it everything, although the deferred mail is not due for minutes
            primary.restart();
            BackstopProcess last = BackstopProcess.serve(config);
            String lastRecovery = recoveryLine(last);
            Map<String, Integer> deliveries;
            try {
                URI metrics = metricsUri(last);
                awaitOrFail(() -> deliveredAll(primary, acked) || drained(primary, metrics), DRAIN_LIMIT,
                        Duration.ofMillis(500), () -> "the queue did not drain in " + DRAIN_LIMIT + ": "
                                + primary.transactions().size() + " delivered\n" + last.output());
                deliveries = deliveries(primary);
                assertThat(last.stop()).as(last.output()).isZero();
            } finally {
                last.close();
            }
            String timing = String.format("%d s of sending and kills, %d s for the delivery",
                    TimeUnit.NANOSECONDS.toSeconds(killed - started),
                    TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - killed));

            // failsafe keeps a test's standard output in target/failsafe-reports; a failure shows the figures too
            String report = report(seed, timing, acked, deliveries, senders, rounds, lastRecovery);
            System.out.print(report);
            assertNoneLost(acked, deliveries, rounds, report);
            assertIntact(primary, senders);
        }
    }

    /** One life of the appliance: when it listened and was killed, and what its start said of the queue. */
    private record Round(int number, long listeningNanos, long killedNanos, String recovery) {
        long lifeMillis() {
            return TimeUnit.NANOSECONDS.toMillis(killedNanos - listeningNanos);
        }
    }

    /**
     * Starts the appliance on the queue, lets the senders at it for a random time (and at least until this round's
     * share of 250s is in), then SIGKILLs it while they go on.
     */
    private static Round sendAndKill(int round, Path config, ContinuousSenders senders, Random random)
            throws Exception {
        try (BackstopProcess backstop = BackstopProcess.serve(config)) {
            String recovery = recoveryLine(backstop);
            int quota = senders.acknowledgedCount() + MIN_PER_ROUND;
            long listening = System.nanoTime();
            long killAt = listening + TimeUnit.MILLISECONDS.toNanos(
                    MIN_LIFE.toMillis() + random.nextInt((int) (MAX_LIFE.toMillis() - MIN_LIFE.toMillis())));
            senders.aim(backstop.smtp(), round);
            awaitOrFail(() -> (senders.acknowledgedCount() >= quota && System.nanoTime() >= killAt)
                    || !backstop.isAlive(), ROUND_LIMIT, Duration.ofMillis(1),
                    () -> "round " + round + ": the senders got " + senders.acknowledgedCount() + " of " + quota
                            + " 250s in " + ROUND_LIMIT + "; crashed senders: " + senders.crashed() + "\n"
                            + backstop.output());
            assertThat(backstop.isAlive()).as("round %d: backstop died by itself:%n%s", round, backstop.output())
                    .isTrue();
            long killed = System.nanoTime();
            backstop.kill();
            return new Round(round, listening, killed, recovery);
        }
    }

    private static String report(long seed, String timing, Map<String, ContinuousSenders.Ack> acked,
            Map<String, Integer> deliveries, ContinuousSenders senders, List<Round> rounds, String lastRecovery) {
        long lost = acked.keySet().stream().filter(t -> !deliveries.containsKey(t)).count();
        long duplicates = deliveries.values().stream().filter(n -> n > 1).mapToLong(n -> n - 1).sum();
        long unacknowledged = deliveries.keySet().stream().filter(t -> !acked.containsKey(t)).count();
        StringBuilder b = new StringBuilder("SIGKILL under load: seed ").append(seed).append(", ").append(ROUNDS)
                .append(" rounds, ").append(SENDERS).append(" senders, ").append(timing).append('\n');
        b.append("  answered 250:                     ").append(acked.size()).append('\n');
        b.append("  delivered (distinct messages):    ").append(deliveries.size()).append('\n');
        b.append("  lost (250 but never delivered):   ").append(lost).append('\n');
        b.append("  duplicates (extra deliveries):    ").append(duplicates).append('\n');
        b.append("  delivered without a 250 (cut):    ").append(unacknowledged).append('\n');
        b.append("  messages tried:                   ").append(senders.tokensTried()).append('\n');
        b.append("  failed sessions (retried):        ").append(senders.failedAttempts()).append('\n');
        for (Round r : rounds) {
            long inRound = acked.values().stream().filter(a -> a.round() == r.number()).count();
            long lostInRound = acked.values().stream().filter(a -> a.round() == r.number())
                    .filter(a -> !deliveries.containsKey(a.token())).count();
            b.append(String.format("  round %2d: killed after %5d ms, %4d answered 250, %3d lost; its start: %s%n",
                    r.number(), r.lifeMillis(), inRound, lostInRound, r.recovery()));
        }
        b.append("  the start after the last kill: ").append(lastRecovery).append('\n');
        return b.toString();
    }

    private static void assertNoneLost(Map<String, ContinuousSenders.Ack> acked, Map<String, Integer> deliveries,
            List<Round> rounds, String report) {
        List<ContinuousSenders.Ack> lost = acked.values().stream().filter(a -> !deliveries.containsKey(a.token()))
                .sorted(Comparator.comparingLong(ContinuousSenders.Ack::atNanos)).toList();
        StringBuilder b = new StringBuilder(report);
        b.append(lost.size()).append(" of ").append(acked.size()).append(" messages answered 250 were never delivered")
                .append(" (queue id, token, round, ms from its 250 to the kill):");
        for (ContinuousSenders.Ack a : lost) {
            long before = TimeUnit.NANOSECONDS.toMillis(rounds.get(a.round() - 1).killedNanos() - a.atNanos());
            b.append("\n  ").append(a.queueId()).append("  ").append(a.token()).append("  round ").append(a.round())
                    .append("  ").append(before).append(" ms");
        }
        if (!lost.isEmpty()) {
            fail(b.toString());
        }
    }

    /** What the primary got is what was sent, after our own Received: header and nothing else. */
    private static void assertIntact(FakePrimaryMx primary, ContinuousSenders senders) {
        for (FakePrimaryMx.Transaction t : primary.transactions()) {
            String data = new String(t.data(), StandardCharsets.ISO_8859_1);
            String token = tokenOf(data);
            assertThat(data).startsWith("Received: from client.test");
            int end = data.indexOf("\r\n");
            while (data.charAt(end + 2) == ' ' || data.charAt(end + 2) == '\t') { // a folded header goes on
                end = data.indexOf("\r\n", end + 2);
            }
            assertThat(data.substring(end + 2)).as("the message %s as delivered", token)
                    .isEqualTo(new String(senders.wireBytes(token), StandardCharsets.ISO_8859_1));
            assertThat(t.rcptTo()).containsExactly("TO:<bob@example.test>");
        }
    }

    /** How many times the primary got each token. */
    private static Map<String, Integer> deliveries(FakePrimaryMx primary) {
        Map<String, Integer> counts = new HashMap<>();
        for (FakePrimaryMx.Transaction t : primary.transactions()) {
            counts.merge(tokenOf(new String(t.data(), StandardCharsets.ISO_8859_1)), 1, Integer::sum);
        }
        return counts;
    }

    private static String tokenOf(String data) {
        Matcher m = MESSAGE_ID.matcher(data);
        if (!m.find()) {
            throw new AssertionError("the primary got a message without our Message-ID:\n" + data);
        }
        return m.group(1);
    }

    private static boolean deliveredAll(FakePrimaryMx primary, Map<String, ContinuousSenders.Ack> acked) {
        return deliveries(primary).keySet().containsAll(acked.keySet());
    }

    private long lastDeliveryCount = -1;
    private long lastDeliveryChange;

    /** The appliance's queue is empty and the primary has got nothing new for {@link #SETTLED}. */
    private boolean drained(FakePrimaryMx primary, URI metrics) throws Exception {
        long now = System.nanoTime();
        int count = primary.transactions().size();
        if (count != lastDeliveryCount) {
            lastDeliveryCount = count;
            lastDeliveryChange = now;
            return false;
        }
        if (now - lastDeliveryChange < SETTLED.toNanos()) {
            return false;
        }
        String exposition = http.send(HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        return MetricsEndpointTest.value(exposition, "backstop_queue_messages") == 0;
    }

    /** The metrics server starts after SMTP listens: waits for its line. */
    private static URI metricsUri(BackstopProcess backstop) throws Exception {
        awaitOrFail(() -> metricsLine(backstop) != null, Duration.ofSeconds(30), Duration.ofMillis(50),
                () -> "no metrics listening line:\n" + backstop.output());
        Matcher m = METRICS.matcher(metricsLine(backstop));
        m.find();
        return URI.create("http://" + m.group(1) + ":" + m.group(2) + "/metrics");
    }

    private static String metricsLine(BackstopProcess backstop) {
        return backstop.lines().stream().filter(l -> METRICS.matcher(l).find()).findFirst().orElse(null);
    }

    private static String recoveryLine(BackstopProcess backstop) {
        return backstop.lines().stream().filter(l -> l.contains("queue recovery:")).findFirst()
                .map(l -> l.substring(l.indexOf("queue recovery:"))).orElse("(no recovery line)");
    }

    @FunctionalInterface
    private interface Condition {
        boolean met() throws Exception;
    }

    /** Polls {@code condition} every {@code interval} (for a kill: often, so it lands close to the moment). */
    private static void awaitOrFail(Condition condition, Duration limit, Duration interval, Supplier<String> why)
            throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.met()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(why.get());
            }
            Thread.sleep(interval.toMillis());
        }
    }

    private Path writeConfig(int primaryPort) throws Exception {
        Path config = dir.resolve("backstop.yaml");
        Files.writeString(config, "hostname: backstop.it.test\n"
                + "smtp:\n  listen: 127.0.0.1:0\n"
                + "domains:\n  example.test:\n    route: 127.0.0.1:" + primaryPort + "\n"
                + "queue:\n  path: " + dir.resolve("queue") + "\n"
                + "probe:\n  interval: 1s\n"
                + "metrics:\n  listen: 127.0.0.1:0\n"
                + "admin:\n  listen: 127.0.0.1:0\n"
                // no SPF lookups through the machine's resolver; and the senders never pause, all from 127.0.0.1:
                // far more than screen.rate.* lets one client send
                + "screen:\n  spf: off\n  rate:\n    connections-per-client: 0\n    connections-per-network: 0\n"
                + "    messages-per-client: 0\n    messages-per-network: 0\n");
        return config;
    }
}
