package org.backstopmx.testkit;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.function.Consumer;

/** The accept loop of the fixtures that listen on loopback: each connection on a daemon thread of its own. */
final class LoopbackAccept {
    private LoopbackAccept() {
    }

    /** Starts a daemon thread that hands each connection {@code server} accepts to {@code session}, until closed. */
    static void start(ServerSocket server, String name, Consumer<Socket> session) {
        daemon(name + "-" + server.getLocalPort(), () -> {
            while (!server.isClosed()) {
                try {
                    Socket client = server.accept();
                    daemon(name + "-session", () -> session.accept(client));
                } catch (IOException e) {
                    return; // closed
                }
            }
        });
    }

    /** Runs {@code work} on a new daemon thread; returns it. */
    static Thread daemon(String name, Runnable work) {
        Thread t = new Thread(work, name);
        t.setDaemon(true);
        t.start();
        return t;
    }
}
