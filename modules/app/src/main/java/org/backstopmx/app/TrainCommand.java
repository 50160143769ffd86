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
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.backstopmx.app.config.ConfigLoader;
import org.backstopmx.core.config.BackstopConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code train}: the training run of the AppCDS archive. Starts the appliance on a scratch queue in a temporary
 * directory, with its SMTP listener and its primary ({@link ScratchPrimary}) on free ports of 127.0.0.1; sends half
 * the messages while the primary refuses (they are queued and wait), has the primary come back and send ETRN, sends
 * the other half while it takes mail, waits until all have been delivered, stops the appliance and removes the
 * directory. Run as {@code java -XX:ArchiveClassesAtExit=backstop.jsa -jar backstop.jar train}, the JVM writes the
 * classes this loaded into {@code backstop.jsa} as it exits, and a start with {@code -XX:SharedArchiveFile} maps them
 * instead of loading and verifying them again.
 *
 * <p>Never touches a real queue: the scratch configuration is read from its own file with no environment, so
 * {@code BACKSTOP_QUEUE_PATH} and the other {@code BACKSTOP_*} overrides do not reach it. A refused message or a
 * delivery that does not arrive in time ends the run with exit status 1 (the archive then still holds what was
 * loaded so far).
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Run the appliance on a scratch queue with mail from and to 127.0.0.1, then exit: the training "
                + "run of the AppCDS archive (java -XX:ArchiveClassesAtExit=backstop.jsa -jar backstop.jar train).")
final class TrainCommand implements Callable<Integer> {
    private static final String DOMAIN = "training.test";
    /** How long the deliveries may take once every message is accepted. */
    private static final long DELIVERY_WAIT_MILLIS = 120_000;

    @Option(names = "--messages", paramLabel = "N", defaultValue = "2000",
            description = "Messages to send (default: ${DEFAULT-VALUE}).")
    int messages;

    @Option(names = "--sessions", paramLabel = "S", defaultValue = "8",
            description = "Concurrent SMTP sessions (default: ${DEFAULT-VALUE}).")
    int sessions;

    @Option(names = "--size", paramLabel = "BYTES", defaultValue = "4096",
            description = "Approximate size of each message (default: ${DEFAULT-VALUE}).")
    int size;

    @Override
    public Integer call() throws Exception {
        if (messages < 2 || sessions < 1 || size < 1) {
            System.err.println("backstop: train: --messages must be at least 2, --sessions and --size at least 1");
            return 2;
        }
        Path dir = Files.createTempDirectory("backstop-training-");
        long t0 = System.nanoTime();
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
                    System.err.printf("backstop: train: %d of %d messages delivered after %d s%n",
                            primary.delivered(), messages, DELIVERY_WAIT_MILLIS / 1000);
                    return 1;
                }
            }
        } catch (IOException e) {
            System.err.println("backstop: train: " + e.getMessage());
            return 1;
        } finally {
            deleteTree(dir);
        }
        System.out.printf("training run: %d messages accepted and delivered over %d sessions in %d ms%n", messages,
                sessions, (System.nanoTime() - t0) / 1_000_000);
        return 0;
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
                } catch (java.util.concurrent.ExecutionException e) {
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
            System.err.println("backstop: train: could not remove " + dir + ": " + e.getMessage());
        }
    }
}
