package org.backstopmx.app.bench;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Accept benchmark: S concurrent SMTP sessions send N messages of L bytes in total to one server, each session
 * sending its messages one after the other over one connection (like Postfix's smtp-source -s S -m N -l L).
 * Latency is measured per message from the first byte of MAIL FROM to the 250 after the final dot, i.e. it includes
 * the server's fsync. Prints throughput and latency percentiles.
 *
 * <p>Usage: {@code AcceptBench HOST:PORT [N=10000] [S=20] [L=4096] [RCPT=bench@example.test]}
 */
public final class AcceptBench {
    public static void main(String[] args) throws Exception {
        String[] hp = args[0].split(":");
        InetSocketAddress target = new InetSocketAddress(hp[0], Integer.parseInt(hp[1]));
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
        int s = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        int l = args.length > 3 ? Integer.parseInt(args[3]) : 4096;
        String rcpt = args.length > 4 ? args[4] : "bench@example.test";
        byte[] body = body(l);
        Recorder recorder = new Recorder(3);
        AtomicInteger next = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(s);
        long start = System.nanoTime();
        List<Future<?>> futures = new ArrayList<>();
        for (int i = 0; i < s; i++) {
            futures.add(pool.submit(() -> {
                session(target, rcpt, body, n, next, failed, recorder);
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        pool.shutdown();
        Histogram h = recorder.getIntervalHistogram();
        long ok = h.getTotalCount();
        System.out.printf("accept benchmark: %d messages of %d bytes, %d sessions, target %s%n", n, l, s, args[0]);
        System.out.printf("  accepted  %d (failed %d) in %.2f s = %.1f msg/s%n", ok, failed.get(), seconds, ok / seconds);
        System.out.printf("  latency ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f%n",
                ms(h.getValueAtPercentile(50)), ms(h.getValueAtPercentile(90)), ms(h.getValueAtPercentile(99)),
                ms(h.getValueAtPercentile(99.9)), ms(h.getMaxValue()));
        if (failed.get() > 0) {
            System.exit(1);
        }
    }

    private static double ms(long micros) {
        return micros / 1000.0;
    }

    private static byte[] body(int size) {
        StringBuilder b = new StringBuilder("From: bench@sender.test\r\nTo: bench@example.test\r\nSubject: bench\r\n\r\n");
        while (b.length() < size - 5) {
            b.append("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n");
        }
        b.setLength(size - 5);
        b.append("\r\n.\r\n");
        return b.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static void session(InetSocketAddress target, String rcpt, byte[] body, int total, AtomicInteger next,
            AtomicInteger failed, Recorder recorder) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(target, 10_000);
            socket.setSoTimeout(120_000);
            socket.setTcpNoDelay(true);
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            expect(in, "220");
            out.write("EHLO bench.test\r\n".getBytes(StandardCharsets.US_ASCII));
            expect(in, "250");
            byte[] envelope = ("MAIL FROM:<bench@sender.test>\r\nRCPT TO:<" + rcpt + ">\r\nDATA\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
            while (next.getAndIncrement() < total) {
                long t0 = System.nanoTime();
                out.write(envelope); // PIPELINING: MAIL, RCPT, DATA in one write
                boolean ok = expect(in, "250") & expect(in, "250") & expect(in, "354");
                out.write(body);
                ok &= expect(in, "250");
                if (ok) {
                    recorder.recordValue((System.nanoTime() - t0) / 1000);
                } else {
                    failed.incrementAndGet();
                }
            }
            out.write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
        }
    }

    /** Reads one reply; true when it has the expected code. */
    private static boolean expect(InputStream in, String code) throws IOException {
        StringBuilder line = new StringBuilder();
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("connection closed");
            }
            if (c == '\n') {
                if (line.length() > 3 && line.charAt(3) == '-') {
                    line.setLength(0);
                    continue;
                }
                return line.toString().startsWith(code);
            }
            line.append((char) c);
        }
    }
}
