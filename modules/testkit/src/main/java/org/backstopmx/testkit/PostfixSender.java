package org.backstopmx.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real sending MTA for interoperability tests: a separate instance of the Debian package's Postfix (its own
 * {@code config_directory}, {@code queue_directory} and log in a temporary directory; the system's default instance
 * is never touched) that takes mail on its own smtpd on 127.0.0.1 and a free port, and relays everything for one
 * domain to {@code smtp:[127.0.0.1]:port}. Mail to any other domain, bounces included, is discarded by Postfix, so
 * nothing leaves the machine and no DNS is asked. The retry timers are shortened to a second so deferred recipients
 * come back within the test.
 *
 * <p>Postfix's master must be started as root ({@code postfix start}); CI runs as root. {@link #start} returns once
 * the smtpd answers; {@link #close} stops the instance ({@code postfix abort}, then the master's pid if need be) and
 * deletes the directory. {@link #log} is Postfix's own mail log ({@code maillog_file}), one line per event, e.g.
 * {@code status=sent}, {@code status=deferred (host ... said: 452 ...)}, {@code status=bounced}.
 */
public final class PostfixSender implements AutoCloseable {
    private static final Duration READY = Duration.ofSeconds(20);
    private static final Duration STOP = Duration.ofSeconds(10);
    private static final List<String> QUEUES = List.of("maildrop", "incoming", "active", "deferred", "hold");

    private final Path root;
    private final Path etc;
    private final Path spool;
    private final Path log;
    private final int smtpdPort;
    private final String postfix;
    private volatile Thread killOnExit;

    private PostfixSender(Path root, int smtpdPort, String postfix) {
        this.root = root;
        this.etc = root.resolve("etc");
        this.spool = root.resolve("spool");
        this.log = root.resolve("log").resolve("maillog");
        this.smtpdPort = smtpdPort;
        this.postfix = postfix;
    }

    /** Whether the {@code postfix} command is on this machine (Debian package {@code postfix}). */
    public static boolean isInstalled() {
        return executable() != null;
    }

    /**
     * Starts an instance that relays mail for {@code domain} to {@code 127.0.0.1:relayPort}, with these main.cf
     * settings on top of the instance's own (later wins, e.g. {@code smtp_destination_recipient_limit=1000}).
     */
    public static PostfixSender start(String domain, int relayPort, Map<String, String> settings) {
        String postfix = executable();
        if (postfix == null) {
            throw new IllegalStateException("postfix is not installed (looked on the PATH and in /usr/sbin, /sbin); "
                    + "the interoperability tests need it: apt-get install postfix");
        }
        PostfixSender sender;
        try {
            Path root = Files.createTempDirectory("postfix-sender-");
            // the daemons drop root for the postfix user, which must reach its queue and data directories
            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
            sender = new PostfixSender(root, freePort(), postfix);
            PostfixConfig.write(root, sender.smtpdPort, domain, relayPort, settings);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the Postfix instance's configuration", e);
        }
        try {
            sender.run("start");
            sender.awaitReady();
        } catch (RuntimeException e) {
            sender.close();
            throw e;
        }
        return sender;
    }

    /** Where Postfix's smtpd listens: mail submitted there is queued and relayed. */
    public InetSocketAddress smtpd() {
        return new InetSocketAddress("127.0.0.1", smtpdPort);
    }

    /** The instance's config_directory ({@code postfix -c}, {@code sendmail -C}). */
    public Path configDirectory() {
        return etc;
    }

    /** Postfix's mail log so far. */
    public String log() {
        try {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    /** Messages in any of Postfix's queues (maildrop, incoming, active, deferred, hold): 0 once all is delivered. */
    public int queued() {
        int n = 0;
        for (String q : QUEUES) {
            Path dir = spool.resolve(q);
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> files = Files.walk(dir)) {
                n += (int) files.filter(Files::isRegularFile).count();
            } catch (IOException | UncheckedIOException e) {
                // a file moved from one queue to the next while we looked: count again next time
                return Integer.MAX_VALUE;
            }
        }
        return n;
    }

    /** {@code postfix flush}: the deferred mail is tried now instead of at its next retry time. */
    public void flush() {
        run("flush");
    }

    /** Stops the instance at once, waits for its master to go, deletes the directory. Idempotent. */
    @Override
    public void close() {
        ProcessHandle master = master();
        if (master != null) {
            try {
                run("abort");
            } catch (RuntimeException e) {
                // killed below
            }
            master.destroyForcibly();
            try {
                master.onExit().get(STOP.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                // gone or going; its children exit when they lose the master
            }
        }
        Thread hook = killOnExit;
        if (hook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // already on the way out
            }
        }
        deleteTree(root);
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + READY.toNanos();
        while (System.nanoTime() < deadline) {
            ProcessHandle master = master();
            if (master != null && killOnExit == null) {
                // the master outlives a test JVM that dies without closing it: kill it on the way out too
                killOnExit = new Thread(master::destroyForcibly, "postfix-" + smtpdPort + "-kill");
                Runtime.getRuntime().addShutdownHook(killOnExit);
            }
            try (SmtpTranscript probe = new SmtpTranscript(smtpd(), 1000)) {
                String greeting = probe.reply();
                if (greeting != null && greeting.startsWith("220")) {
                    probe.command("QUIT");
                    return;
                }
            } catch (IOException notYet) {
                // smtpd not listening yet
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for Postfix", e);
            }
        }
        throw new IllegalStateException("Postfix's smtpd did not greet on " + smtpd() + " within "
                + READY.toSeconds() + " s\n" + log());
    }

    /** The running master, from its pid file; null when not running. */
    private ProcessHandle master() {
        try {
            String pid = Files.readString(spool.resolve("pid").resolve("master.pid")).trim();
            return ProcessHandle.of(Long.parseLong(pid)).filter(ProcessHandle::isAlive).orElse(null);
        } catch (IOException | NumberFormatException e) {
            return null;
        }
    }

    /** {@code postfix -c <config_directory> <verb>}; throws with its output when it fails. */
    private void run(String verb) {
        List<String> command = List.of(postfix, "-c", etc.toString(), verb);
        try {
            Path out = root.resolve("postfix-" + verb + ".out");
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(READY.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " exited with " + p.exitValue() + ":\n"
                        + Files.readString(out) + "\n" + log());
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + String.join(" ", command), e);
        }
    }

    /** postfix on the PATH or in the sbin directories (which are not on every user's PATH); null if absent. */
    private static String executable() {
        List<Path> candidates = new ArrayList<>();
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty()) {
                candidates.add(Path.of(dir, "postfix"));
            }
        }
        candidates.addAll(List.of(Path.of("/usr/sbin/postfix"), Path.of("/sbin/postfix")));
        for (Path p : candidates) {
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return null;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException e) {
            // a leftover temporary directory is harmless
        }
    }

    /** The settings as given, in order, for {@link #start}. */
    public static Map<String, String> settings(String... keyValues) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i + 1 < keyValues.length; i += 2) {
            m.put(keyValues[i], keyValues[i + 1]);
        }
        return m;
    }

    @Override
    public String toString() {
        return "Postfix instance in " + root + ", smtpd on " + smtpd();
    }
}
