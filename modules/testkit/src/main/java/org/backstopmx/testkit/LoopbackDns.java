package org.backstopmx.testkit;

import java.io.File;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/** What the DNS servers of the tests ({@link Dnsmasq}, {@link Nsd}) share: finding the binary, a port, readiness. */
final class LoopbackDns {
    private LoopbackDns() {
    }

    /** {@code name} on the PATH or in the sbin directories (which are not on every user's PATH). */
    static Optional<Path> executable(String name) {
        List<Path> candidates = new ArrayList<>();
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isEmpty()) {
                candidates.add(Path.of(dir, name));
            }
        }
        candidates.addAll(List.of(Path.of("/usr/sbin", name), Path.of("/sbin", name), Path.of("/usr/local/sbin", name)));
        return candidates.stream().filter(Files::isExecutable).findFirst();
    }

    /** A port free for both UDP and TCP on 127.0.0.1 (DNS servers bind both). */
    static int freePort() {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        for (int attempt = 0; attempt < 50; attempt++) {
            try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(loopback, 0))) {
                int port = udp.getLocalPort();
                try (ServerSocket tcp = new ServerSocket()) {
                    tcp.bind(new InetSocketAddress(loopback, port));
                    return port;
                } catch (IOException busy) {
                    // TCP side taken: try another
                }
            } catch (IOException e) {
                throw new IllegalStateException("cannot bind a UDP socket on 127.0.0.1", e);
            }
        }
        throw new IllegalStateException("no port free for both UDP and TCP on 127.0.0.1");
    }

    /**
     * Polls {@code port} with a UDP query for {@code name} until any reply arrives (port unreachable before the bind
     * is fine), at most {@code ready}; throws with the command and its log when the process exits or stays silent.
     */
    static void awaitAnswer(int port, String name, Process process, Duration ready, List<String> command,
            Supplier<String> log) {
        long deadline = System.nanoTime() + ready.toNanos();
        byte[] query = query(name);
        String server = Path.of(command.get(0)).getFileName().toString();
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            socket.setSoTimeout(50);
            InetSocketAddress target = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
            byte[] buffer = new byte[512];
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    throw new IllegalStateException(server + " exited with " + process.exitValue() + ": "
                            + String.join(" ", command) + "\n" + log.get());
                }
                try {
                    socket.send(new DatagramPacket(query, query.length, target));
                    socket.receive(new DatagramPacket(buffer, buffer.length));
                    return;
                } catch (SocketTimeoutException e) {
                    // not answering yet
                } catch (IOException e) {
                    sleepBriefly(server); // port unreachable before the server binds
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot probe " + server + " on port " + port, e);
        }
        throw new IllegalStateException(server + " did not answer within " + ready.toSeconds() + " s: "
                + String.join(" ", command) + "\n" + log.get());
    }

    /** A minimal DNS query (RFC 1035 §4.1) for the A record of {@code name}. */
    private static byte[] query(String name) {
        byte[] out = new byte[12 + name.length() + 2 + 4];
        out[0] = 0x42;
        out[1] = 0x42; // id
        out[2] = 0x01; // RD
        out[5] = 1; // QDCOUNT
        int i = 12;
        for (String label : name.split("\\.")) {
            out[i++] = (byte) label.length();
            for (char c : label.toCharArray()) {
                out[i++] = (byte) c;
            }
        }
        out[i++] = 0; // root
        out[i + 1] = 1; // QTYPE A
        out[i + 3] = 1; // QCLASS IN
        return out;
    }

    private static void sleepBriefly(String server) {
        try {
            Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + server, e);
        }
    }
}
