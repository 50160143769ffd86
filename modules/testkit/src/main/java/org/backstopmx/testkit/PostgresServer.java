package org.backstopmx.testkit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A real PostgreSQL for tests: Debian's binaries ({@code /usr/lib/postgresql/<version>/bin}, the newest version
 * installed; they are not on the PATH), a cluster made by {@code initdb} in a fresh temporary directory, listening on
 * 127.0.0.1 on a free port only (no Unix socket), trust authentication for the one superuser {@link #USER}.
 *
 * <p>PostgreSQL refuses to run as root; when the JVM is root (CI is), every command runs as the {@code postgres} user
 * through {@code runuser}, and the data directory is handed to that user. {@link #start()} returns once the server
 * accepts connections; {@link #stop()} and {@link #restart()} stop and start it on the same data (a failover to a
 * server that kept every committed row). Closing it stops the server and removes the directory; a shutdown hook does
 * the same when the JVM exits without closing it (a server shared by the tests of a whole run).
 */
public final class PostgresServer implements AutoCloseable {
    /** The superuser that {@code initdb} creates and the tests connect as. */
    public static final String USER = "backstop";
    private static final String OS_USER = "postgres";
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);
    private static final AtomicInteger DATABASES = new AtomicInteger();

    private final Path bin;
    private final Path root;
    private final Path data;
    private final Path log;
    private final int port;
    private final boolean asRoot;
    private final Thread stopOnExit;

    private PostgresServer(Path bin, Path root, int port, boolean asRoot) {
        this.bin = bin;
        this.root = root;
        this.data = root.resolve("data");
        this.log = root.resolve("postgres.log");
        this.port = port;
        this.asRoot = asRoot;
        this.stopOnExit = new Thread(this::stopAndRemove, "postgres-" + port + "-stop");
        Runtime.getRuntime().addShutdownHook(stopOnExit);
    }

    /** Makes a new cluster in a temporary directory and starts it; throws with the reason when it cannot. */
    public static PostgresServer start() {
        Path bin = binaries();
        boolean asRoot = "root".equals(System.getProperty("user.name"));
        Path root;
        try {
            root = Files.createTempDirectory("postgres-");
            // the server's user must own the directory; others need nothing
            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new IllegalStateException("cannot create a directory for PostgreSQL", e);
        }
        PostgresServer server = new PostgresServer(bin, root, freePort(), asRoot);
        try {
            if (asRoot) {
                server.run(List.of("chown", OS_USER + ":", root.toString()), false);
            }
            server.run(List.of(bin.resolve("initdb").toString(), "-D", server.data.toString(), "-U", USER,
                    "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"), true);
            server.startServer();
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    public int port() {
        return port;
    }

    /** Creates a new, empty database with a name of its own and returns its name. */
    public String createDatabase() {
        String name = "backstop_" + ProcessHandle.current().pid() + "_" + DATABASES.incrementAndGet();
        run(List.of(bin.resolve("createdb").toString(), "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", USER,
                name), true);
        return name;
    }

    /** {@code jdbc:postgresql://127.0.0.1:port/database}. */
    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    /** Stops the server (fast shutdown: open sessions are ended, committed data stays). Idempotent. */
    public void stop() {
        if (Files.exists(data.resolve("postmaster.pid"))) {
            run(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "fast", "-w", "stop"), true);
        }
    }

    /** Stops the server and starts it again on the same data and port. */
    public void restart() {
        stop();
        startServer();
    }

    /** Whether a TCP connection to the server's port succeeds now. */
    public boolean accepting() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** What the server logged so far. */
    public String log() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    @Override
    public void close() {
        stopAndRemove();
        try {
            Runtime.getRuntime().removeShutdownHook(stopOnExit);
        } catch (IllegalStateException shuttingDown) {
            // already on the way out
        }
    }

    @Override
    public String toString() {
        return "PostgreSQL on 127.0.0.1:" + port + " in " + data;
    }

    private void startServer() {
        // -w: pg_ctl returns once the server accepts connections (or fails); no Unix socket, loopback TCP only
        run(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-l", log.toString(), "-w", "-t", "60",
                "-o", "-p " + port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200",
                "start"), true);
    }

    private void stopAndRemove() {
        stopQuietly();
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a leftover temporary directory is harmless
        }
    }

    private void stopQuietly() {
        try {
            stop();
        } catch (RuntimeException e) {
            // stopping a server that is already gone
        }
    }

    /** Runs a command to its end (as the server's user when {@code asServerUser} and the JVM is root). */
    private void run(List<String> command, boolean asServerUser) {
        List<String> full = new ArrayList<>();
        if (asServerUser && asRoot) {
            full.addAll(List.of("runuser", "-u", OS_USER, "--"));
        }
        full.addAll(command);
        Path out = root.resolve("command.out");
        try {
            Process p = new ProcessBuilder(full).directory(root.toFile()).redirectErrorStream(true)
                    .redirectOutput(out.toFile()).start();
            if (!p.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out after " + COMMAND_TIMEOUT.toSeconds() + " s: "
                        + String.join(" ", full) + "\n" + log());
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("exit " + p.exitValue() + ": " + String.join(" ", full) + "\n"
                        + Files.readString(out, StandardCharsets.UTF_8) + "\n" + log());
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + String.join(" ", full), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + String.join(" ", full), e);
        }
    }

    /** The bin directory of the newest PostgreSQL that Debian's packages installed. */
    private static Path binaries() {
        Path base = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(base)) {
            try (Stream<Path> versions = Files.list(base)) {
                java.util.Optional<Path> newest = versions.filter(v -> Files.isExecutable(v.resolve("bin/initdb")))
                        .max(Comparator.comparingInt(PostgresServer::versionOf));
                if (newest.isPresent()) {
                    return newest.get().resolve("bin");
                }
            } catch (IOException e) {
                throw new IllegalStateException("cannot list " + base, e);
            }
        }
        throw new IllegalStateException("PostgreSQL is not installed (no /usr/lib/postgresql/<version>/bin/initdb);"
                + " the PostgreSQL queue tests need it: apt-get install postgresql");
    }

    private static int versionOf(Path dir) {
        try {
            return Integer.parseInt(dir.getFileName().toString());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("no free port on 127.0.0.1", e);
        }
    }
}
