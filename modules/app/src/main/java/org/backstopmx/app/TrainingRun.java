package org.backstopmx.app;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.backstopmx.app.config.ConfigLoader;
import org.backstopmx.core.config.BackstopConfig;

/**
 * The workload of {@code train} and of {@code serve --warm-up}: the appliance started on a scratch queue in a
 * temporary directory, with its SMTP listener and its primary ({@link ScratchPrimary}) on free ports of 127.0.0.1;
 * half the messages sent while the primary refuses (they are queued and wait), the primary back with ETRN, the other
 * half sent while it takes mail, then a wait until all have been delivered; the appliance stopped and the directory
 * removed.
 *
 * <p>Never touches a real queue: the scratch configuration is read from its own file with no environment, so
 * {@code BACKSTOP_QUEUE_PATH} and the other {@code BACKSTOP_*} overrides do not reach it.
 */
final class TrainingRun {
    private static final String DOMAIN = "training.test";
    /** How long the deliveries may take once every message is accepted. */
    private static final long DELIVERY_WAIT_MILLIS = 120_000;

    private final int sessions;
    private final int size;

    private TrainingRun(int sessions, int size) {
        this.sessions = sessions;
        this.size = size;
    }

    /**
     * Runs the workload.
     *
     * @return how long it took, in milliseconds
     * @throws IOException           when the scratch directory cannot be made or a message is refused
     * @throws IllegalStateException when the deliveries do not all arrive within two minutes
     */
    static long run(int messages, int sessions, int size) throws Exception {
        long t0 = System.nanoTime();
        new TrainingRun(sessions, size).exercise(messages);
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private void exercise(int messages) throws Exception {
        Path dir = Files.createTempDirectory("backstop-training-");
        try (ScratchPrimary primary = new ScratchPrimary()) {
            BackstopConfig config = ConfigLoader.load(Optional.of(writeConfig(dir, primary.port())), Map.of());
            try (Appliance appliance = Appliance.start(config, Clock.systemUTC())) {
                InetSocketAddress smtp = appliance.smtpAddress();
                int down = messages / 2;
                sendAll(smtp, down, "down");
                primary.comeUp();
                try (TrainingSender etrn = new TrainingSender(smtp)) {
                    etrn.etrn(DOMAIN);
                }
                sendAll(smtp, messages - down, "up");
                long deadline = System.currentTimeMillis() + DELIVERY_WAIT_MILLIS;
                while (primary.delivered() < messages && System.currentTimeMillis() < deadline) {
                    Thread.sleep(50);
                }
                if (primary.delivered() < messages) {
                    throw new IllegalStateException(String.format("%d of %d messages delivered after %d s",
                            primary.delivered(), messages, DELIVERY_WAIT_MILLIS / 1000));
                }
            }
        } finally {
            deleteTree(dir);
        }
    }

    /** Sends {@code count} messages over {@link #sessions} concurrent sessions; the first failure is thrown. */
    private void sendAll(InetSocketAddress smtp, int count, String tag) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(sessions);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int s = 0; s < sessions; s++) {
                int share = count / sessions + (s < count % sessions ? 1 : 0);
                String sessionTag = tag + "-" + s;
                done.add(pool.submit(() -> {
                    try (TrainingSender sender = new TrainingSender(smtp)) {
                        sender.send(share, size, "training@" + DOMAIN, sessionTag);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof Exception cause ? cause : e;
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** The scratch appliance: everything on 127.0.0.1, the queue in {@code dir}, no rate limits and no SPF lookups. */
    private static Path writeConfig(Path dir, int primaryPort) throws IOException {
        Path file = dir.resolve("backstop.yaml");
        Files.writeString(file, String.join("\n",
                "hostname: backstop.training.test",
                "smtp:",
                "  listen: 127.0.0.1:0",
                "domains:",
                "  " + DOMAIN + ":",
                "    route: 127.0.0.1:" + primaryPort,
                "queue:",
                "  path: " + dir.resolve("queue"),
                "metrics: { listen: 127.0.0.1:0 }",
                "admin: { listen: 127.0.0.1:0 }",
                "screen:",
                "  spf: off",
                "  rate: { connections-per-client: 0, connections-per-network: 0, messages-per-client: 0, "
                        + "messages-per-network: 0 }",
                ""), StandardCharsets.UTF_8);
        return file;
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            System.err.println("backstop: could not remove the training run's " + dir + ": " + e.getMessage());
        }
    }
}
