package org.backstopmx.app;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The appliance jar run as a separate JVM, as an admin runs it: {@code java -jar backstop.jar ...}. Its output is
 * collected; the SMTP port is read from its startup log line, so tests never pick fixed ports.
 */
final class BackstopProcess implements AutoCloseable {
    static final Path JAR = Path.of("target", "backstop.jar").toAbsolutePath();
    private static final Pattern LISTENING = Pattern.compile("SMTP listening on /?[^:]*:(\\d+)");

    private final Process process;
    private final List<String> output = new CopyOnWriteArrayList<>();
    private final Thread reader;
    private volatile int port = -1;

    private BackstopProcess(Process process) {
        this.process = process;
        reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    output.add(line);
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        port = Integer.parseInt(m.group(1));
                    }
                }
            } catch (IOException e) {
                // process gone
            }
        }, "backstop-output");
        reader.setDaemon(true);
        reader.start();
    }

    static List<String> javaCommand(List<String> jvmArgs, String... args) {
        if (!Files.exists(JAR)) {
            throw new IllegalStateException(JAR + " is missing: run the tests with mvn verify (the jar is built at package)");
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmArgs);
        cmd.add("-jar");
        cmd.add(JAR.toString());
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Starts {@code serve --config FILE} and waits until SMTP listens. */
    static BackstopProcess serve(Path config, String... jvmArgs) throws Exception {
        return start(new ProcessBuilder(javaCommand(List.of(jvmArgs), "serve", "--config", config.toString())));
    }

    /** Starts {@code serve --config FILE} followed by {@code serveArgs} and waits until an SMTP listener is up. */
    static BackstopProcess serve(Path config, List<String> jvmArgs, String... serveArgs) throws Exception {
        List<String> args = new ArrayList<>(List.of("serve", "--config", config.toString()));
        args.addAll(List.of(serveArgs));
        return start(new ProcessBuilder(javaCommand(jvmArgs, args.toArray(String[]::new))));
    }

    /** Starts {@code serve} with the embedded defaults in {@code workDir}. */
    static BackstopProcess serveDefaults(Path workDir) throws Exception {
        return start(new ProcessBuilder(javaCommand(List.of(), "serve")).directory(workDir.toFile()));
    }

    private static BackstopProcess start(ProcessBuilder pb) throws Exception {
        pb.redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("BACKSTOP_"));
        BackstopProcess p = new BackstopProcess(pb.start());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (p.port < 0) {
            if (!p.process.isAlive()) {
                throw new IllegalStateException("backstop exited with " + p.process.exitValue() + ":\n" + p.output());
            }
            if (System.nanoTime() > deadline) {
                p.kill();
                throw new IllegalStateException("backstop did not start listening:\n" + p.output());
            }
            Thread.sleep(20);
        }
        return p;
    }

    /** Runs a command to completion and returns its exit code and output. */
    static Result run(String... args) throws Exception {
        return run(List.of(), args);
    }

    /** Runs a command with these JVM options to completion and returns its exit code and output. */
    static Result run(List<String> jvmArgs, String... args) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(javaCommand(jvmArgs, args)).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("BACKSTOP_"));
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("command did not finish: " + String.join(" ", args));
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    record Result(int exitCode, String output) {
    }

    InetSocketAddress smtp() {
        return new InetSocketAddress("127.0.0.1", port);
    }

    String output() {
        return String.join("\n", output);
    }

    List<String> lines() {
        return List.copyOf(output);
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL, like kill -9: no shutdown hook runs. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /**
     * SIGTERM and wait; returns the exit code, or -1 if the JVM did not exit in time. Its output is read to the end,
     * so {@link #output()} has what it logged while stopping. ({@code Process.destroy()} would send the same signal but
     * also close our end of its output, losing those lines.)
     */
    int stop() throws InterruptedException {
        process.toHandle().destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return -1;
        }
        reader.join(TimeUnit.SECONDS.toMillis(10));
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }
}
