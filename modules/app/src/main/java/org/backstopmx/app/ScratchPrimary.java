package org.backstopmx.app;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.io.OutputStreamWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The primary of a training run, on a free port of 127.0.0.1: while down it answers every connection
 * {@code 421 4.3.2} at the greeting (a primary that is there but refuses, as after a crash); once up it takes every
 * message and counts it, like Postfix's {@code smtp-sink}.
 */
final class ScratchPrimary implements AutoCloseable {
    private final ServerSocket listener;
    private final ExecutorService sessions = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "training-primary");
        t.setDaemon(true);
        return t;
    });
    private final AtomicInteger delivered = new AtomicInteger();
    private volatile boolean up;

    ScratchPrimary() throws IOException {
        listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        sessions.execute(this::acceptLoop);
    }

    int port() {
        return listener.getLocalPort();
    }

    void comeUp() {
        up = true;
    }

    int delivered() {
        return delivered.get();
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket s = listener.accept();
                sessions.execute(() -> serve(s));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket socket) {
        try (socket;
                BufferedReader in = new BufferedReader(
                        new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
                Writer out = new OutputStreamWriter(socket.getOutputStream(), StandardCharsets.US_ASCII)) {
            if (!up) {
                reply(out, "421 4.3.2 primary.training.test down for the training run");
                return;
            }
            reply(out, "220 primary.training.test ESMTP");
            String line;
            while ((line = in.readLine()) != null) {
                String verb = line.length() >= 4 ? line.substring(0, 4).toUpperCase(java.util.Locale.ROOT) : line;
                switch (verb) {
                    case "EHLO" -> reply(out, "250-primary.training.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
                            + "250 ENHANCEDSTATUSCODES");
                    case "DATA" -> {
                        reply(out, "354 go ahead");
                        while ((line = in.readLine()) != null && !line.equals(".")) {
                            // the body is not kept
                        }
                        delivered.incrementAndGet();
                        reply(out, "250 2.0.0 delivered");
                    }
                    case "QUIT" -> {
                        reply(out, "221 2.0.0 bye");
                        return;
                    }
                    default -> reply(out, "250 2.0.0 ok");
                }
            }
        } catch (IOException e) {
            // the appliance closed its connection: nothing to count
        }
    }

    private static void reply(Writer out, String text) throws IOException {
        out.write(text + "\r\n");
        out.flush();
    }

    @Override
    public void close() throws IOException {
        listener.close();
        sessions.shutdownNow();
    }
}
