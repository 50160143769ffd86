package org.backstopmx.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.backstopmx.core.config.HostPort;

/**
 * A real authoritative DNS server for tests: NSD on 127.0.0.1, a free port, every file (configuration, zone list,
 * pid, log) in a directory of the test's, as the user running the test, and no remote control. It serves zone files
 * as they are, signed ({@link SignedZone}) or not, and validates nothing: a broken signature reaches the client.
 * {@link #start} returns once the server answers. Closing it kills the process.
 */
public final class Nsd implements AutoCloseable {
    private static final Duration READY = Duration.ofSeconds(10);

    private final Process process;
    private final int port;
    private final Path log;
    private final Thread killOnExit;

    private Nsd(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
        this.killOnExit = new Thread(process::destroyForcibly, "nsd-" + port + "-kill");
        Runtime.getRuntime().addShutdownHook(killOnExit);
    }

    /** Whether the binary is on this machine (CI installs the Debian package {@code nsd}). */
    public static boolean isInstalled() {
        return LoopbackDns.executable("nsd").isPresent();
    }

    /**
     * Starts NSD in {@code dir} serving each zone (origin, such as {@code dane.test}) from its file.
     *
     * @throws IllegalStateException when NSD is not installed, exits or does not answer in time
     */
    public static Nsd start(Path dir, Map<String, Path> zones) {
        String executable = LoopbackDns.executable("nsd").map(Path::toString).orElseThrow(() ->
                new IllegalStateException("nsd is not installed; the DANE tests need it: apt-get install nsd"));
        int port = LoopbackDns.freePort();
        Path conf = dir.resolve("nsd.conf");
        Path log = dir.resolve("nsd.log");
        StringBuilder c = new StringBuilder();
        c.append("server:\n")
                .append("  ip-address: 127.0.0.1@").append(port).append('\n')
                .append("  port: ").append(port).append('\n')
                .append("  do-ip6: no\n")
                .append("  username: \"\"\n")
                .append("  chroot: \"\"\n")
                .append("  database: \"\"\n")
                .append("  server-count: 1\n")
                .append("  zonesdir: \"").append(dir).append("\"\n")
                .append("  zonelistfile: \"").append(dir.resolve("zone.list")).append("\"\n")
                .append("  xfrdfile: \"").append(dir.resolve("xfrd.state")).append("\"\n")
                .append("  xfrdir: \"").append(dir).append("\"\n")
                .append("  pidfile: \"").append(dir.resolve("nsd.pid")).append("\"\n")
                .append("  logfile: \"").append(log).append("\"\n")
                .append("remote-control:\n  control-enable: no\n");
        zones.forEach((origin, file) -> c.append("zone:\n  name: ").append(origin).append("\n  zonefile: \"")
                .append(file.toAbsolutePath()).append("\"\n"));
        List<String> command = List.of(executable, "-d", "-c", conf.toString());
        Process process;
        try {
            Files.writeString(conf, c, StandardCharsets.UTF_8);
            process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("nsd.out").toFile()).start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + String.join(" ", command), e);
        }
        Nsd server = new Nsd(process, port, log);
        try {
            String probe = zones.keySet().iterator().next();
            LoopbackDns.awaitAnswer(port, probe, process, READY, new ArrayList<>(command), server::log);
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    public int port() {
        return port;
    }

    /** Where to send queries: {@code 127.0.0.1:port}. */
    public HostPort address() {
        return new HostPort("127.0.0.1", port);
    }

    /** What NSD logged so far. */
    public String log() {
        try {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "(no log yet)";
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    /** Kills NSD and waits until it is gone. Idempotent. */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
        try {
            Runtime.getRuntime().removeShutdownHook(killOnExit);
        } catch (IllegalStateException shuttingDown) {
            // already on the way out
        }
    }

    @Override
    public String toString() {
        return "nsd on 127.0.0.1:" + port;
    }
}
