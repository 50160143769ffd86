package org.backstopmx.testkit;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.backstopmx.core.config.HostPort;

/**
 * A real DNS server for tests: dnsmasq on 127.0.0.1, a free port, nothing from the machine's own configuration
 * ({@code --no-resolv --no-hosts}), and every unknown name under {@code test.} answered NXDOMAIN
 * ({@code --local=/test/}; without it dnsmasq answers REFUSED).
 *
 * <p>Records are given as dnsmasq options, e.g. {@code --mx-host=multi.test,mx1.multi.test,10},
 * {@code --host-record=mx1.multi.test,127.0.0.11,::11}, {@code --mx-host=nullmx.test,.,0} (a null MX),
 * {@code --cname=alias.test,target.test}, {@code --local-ttl=1}. {@link #start} returns once the server answers.
 * Closing it kills the process.
 */
public final class Dnsmasq implements AutoCloseable {
    private static final Duration READY = Duration.ofSeconds(5);

    /**
     * A DNSSEC trust anchor (the root KSK) that nothing served on loopback can be validated against, so a validating
     * instance answers every question SERVFAIL.
     */
    private static final String ROOT_TRUST_ANCHOR =
            ".,20326,8,2,E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D";

    private final Process process;
    private final int port;
    private final Path log;
    private final Thread killOnExit;

    private Dnsmasq(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
        // dnsmasq outlives a test JVM that dies without closing it: kill it on the way out too
        this.killOnExit = new Thread(process::destroyForcibly, "dnsmasq-" + port + "-kill");
        Runtime.getRuntime().addShutdownHook(killOnExit);
    }

    /** Starts dnsmasq with the base options and {@code records}; returns once it answers queries. */
    public static Dnsmasq start(String... records) {
        List<String> args = new ArrayList<>(List.of("--local=/test/"));
        args.addAll(Arrays.asList(records));
        return launch(args);
    }

    /**
     * Starts a second, DNSSEC-validating dnsmasq that forwards to {@code upstream}: since nothing on loopback is
     * signed, every question to it is answered SERVFAIL (within milliseconds).
     */
    public static Dnsmasq servfailInFrontOf(Dnsmasq upstream) {
        return launch(List.of("--dnssec", "--trust-anchor=" + ROOT_TRUST_ANCHOR, "--dnssec-check-unsigned",
                "--server=127.0.0.1#" + upstream.port()));
    }

    /**
     * Starts a DNSSEC-validating dnsmasq, a resolver such as {@code dns.trust-ad} expects, that forwards questions
     * under {@code zone} to the server on 127.0.0.1:{@code upstreamPort} and validates them from {@code ds}, the
     * zone's DS record in zone-file form ({@code zone. IN DS 12345 13 2 ab...}): validated answers carry the AD bit,
     * bogus ones are SERVFAIL.
     */
    public static Dnsmasq validating(String zone, int upstreamPort, String ds) {
        String[] f = ds.trim().split("\\s+");
        int at = java.util.Arrays.asList(f).indexOf("DS");
        String anchor = zone + "," + f[at + 1] + "," + f[at + 2] + "," + f[at + 3] + "," + f[at + 4];
        // dnsmasq insists on a root anchor as well; the zone's own anchor is the closer one and is used
        return launch(List.of("--dnssec", "--trust-anchor=" + ROOT_TRUST_ANCHOR, "--trust-anchor=" + anchor,
                "--server=/" + zone + "/127.0.0.1#" + upstreamPort, "--local=/test/"));
    }

    /**
     * Starts a dnsmasq whose queries under {@code zone} go to {@code blackHole} and are never answered, so a client
     * asking about names in that zone times out; other names are answered as by {@link #start}.
     */
    public static Dnsmasq withSilentZone(String zone, BlackHole blackHole, String... records) {
        List<String> args = new ArrayList<>(List.of("--server=/" + zone + "/127.0.0.1#" + blackHole.port()));
        args.addAll(Arrays.asList(records));
        return start(args.toArray(String[]::new));
    }

    public int port() {
        return port;
    }

    /** Where to send queries: {@code 127.0.0.1:port}. */
    public HostPort address() {
        return new HostPort("127.0.0.1", port);
    }

    /** What dnsmasq logged so far (each query when started with {@code --log-queries}). */
    public String log() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    /** Kills dnsmasq and waits until it is gone, so its port no longer answers. Idempotent. */
    public void stop() {
        if (!process.isAlive()) {
            return;
        }
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

    @Override
    public void close() {
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(killOnExit);
        } catch (IllegalStateException shuttingDown) {
            // already on the way out
        }
        try {
            Files.deleteIfExists(log);
        } catch (IOException e) {
            // a leftover temporary file is harmless
        }
    }

    private static Dnsmasq launch(List<String> extra) {
        String executable = executable();
        int port = freePort();
        List<String> command = new ArrayList<>(List.of(executable, "--no-daemon", "--port=" + port,
                "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
                "--pid-file=", "--log-facility=-"));
        command.addAll(extra);
        Path log;
        Process process;
        try {
            log = Files.createTempFile("dnsmasq-" + port + "-", ".log");
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(log.toFile());
            process = pb.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + String.join(" ", command), e);
        }
        Dnsmasq server = new Dnsmasq(process, port, log);
        try {
            server.awaitReady(command);
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    private void awaitReady(List<String> command) {
        LoopbackDns.awaitAnswer(port, "ready.test", process, READY, command, this::log);
    }

    /** dnsmasq on the PATH or in the sbin directories (which are not on every user's PATH). */
    private static String executable() {
        return LoopbackDns.executable("dnsmasq").map(Path::toString).orElseThrow(() -> new IllegalStateException(
                "dnsmasq is not installed (looked on the PATH and in /usr/sbin, /sbin, /usr/local/sbin); the DNS tests "
                        + "need it: apt-get install dnsmasq"));
    }

    private static int freePort() {
        return LoopbackDns.freePort();
    }

    @Override
    public String toString() {
        return "dnsmasq on 127.0.0.1:" + port;
    }

    /**
     * A UDP socket on 127.0.0.1 that nobody reads: queries sent to it vanish and, unlike a closed port, no ICMP
     * port-unreachable comes back, so the sender waits for its timeout. Point a resolver straight at it, or forward a
     * zone to it with {@link #withSilentZone}.
     */
    public static final class BlackHole implements AutoCloseable {
        private final DatagramSocket socket;

        public BlackHole() {
            try {
                socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            } catch (IOException e) {
                throw new IllegalStateException("cannot bind a UDP socket on 127.0.0.1", e);
            }
        }

        public int port() {
            return socket.getLocalPort();
        }

        public HostPort address() {
            return new HostPort("127.0.0.1", port());
        }

        @Override
        public void close() {
            socket.close();
        }
    }
}
