package org.backstopmx.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on 127.0.0.1 in front of one local port, that can be cut off as by a network partition: while
 * {@link #blackhole() blackholed} it keeps every connection open but forwards nothing, either way, and it still
 * accepts new connections (the kernel completes their handshake) without connecting them onward. Nobody is told
 * anything: no reset, no close; a client only sees its reads go unanswered, as when a firewall starts dropping the
 * packets.
 *
 * <p>Bytes are held, not thrown away: what either side wrote during the partition is forwarded once it
 * {@link #heal() ends}, as TCP retransmits what was lost, and a connection accepted during it is connected onward
 * then. A side that gave up and closed its socket meanwhile is seen closed after the partition, as its FIN then gets
 * through; the other side is then closed too.
 *
 * <p>Real sockets and one thread per direction of each connection (daemon threads); for tests only.
 */
public final class TcpProxy implements AutoCloseable {
    private final ServerSocket server;
    private final int targetPort;
    private final Object gate = new Object();
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final AtomicInteger accepted = new AtomicInteger();
    private boolean blackholed;

    private TcpProxy(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        LoopbackAccept.start(server, "tcp-proxy", client -> {
            accepted.incrementAndGet();
            sockets.add(client);
            connect(client);
        });
    }

    /** A proxy from a free port on 127.0.0.1 to {@code 127.0.0.1:targetPort}, forwarding. */
    public static TcpProxy to(int targetPort) throws IOException {
        return new TcpProxy(targetPort);
    }

    /** The port it listens on. */
    public int port() {
        return server.getLocalPort();
    }

    /** Connections accepted so far. */
    public int accepted() {
        return accepted.get();
    }

    /** From now on nothing is forwarded, on open connections or new ones, until {@link #heal()}. */
    public void blackhole() {
        synchronized (gate) {
            blackholed = true;
        }
    }

    /** Forwards again: what was held goes through, and connections accepted meanwhile are connected onward. */
    public void heal() {
        synchronized (gate) {
            blackholed = false;
            gate.notifyAll();
        }
    }

    /** Whether it forwards nothing now. */
    public boolean isBlackholed() {
        synchronized (gate) {
            return blackholed;
        }
    }

    /** Stops listening and closes every connection (both sides see it closed). */
    @Override
    public void close() throws IOException {
        server.close();
        heal();
        for (Socket s : sockets) {
            closeQuietly(s);
        }
    }

    /** Connects {@code client} onward once the path is open, then pipes both ways. */
    private void connect(Socket client) {
        Socket upstream = null;
        try {
            awaitOpen();
            upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
            sockets.add(upstream);
            Socket up = upstream;
            Thread back = LoopbackAccept.daemon("tcp-proxy-back", () -> pipe(up, client));
            pipe(client, upstream);
            back.join();
        } catch (IOException e) {
            // the target is not listening: the client sees its connection closed
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeQuietly(client);
            closeQuietly(upstream);
        }
    }

    /** Copies {@code from} to {@code to}; each block waits for the path to be open before it is read and written. */
    private void pipe(Socket from, Socket to) {
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            byte[] buffer = new byte[16 * 1024];
            while (true) {
                awaitOpen();
                int n = in.read(buffer);
                awaitOpen(); // read before the partition began, held until it ends
                if (n < 0) {
                    break;
                }
                out.write(buffer, 0, n);
                out.flush();
            }
            to.shutdownOutput();
        } catch (IOException e) {
            closeQuietly(from);
            closeQuietly(to);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void awaitOpen() throws InterruptedException {
        synchronized (gate) {
            while (blackholed) {
                gate.wait();
            }
        }
    }

    private void closeQuietly(Socket s) {
        if (s == null) {
            return;
        }
        sockets.remove(s);
        try {
            s.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public String toString() {
        return "TCP proxy 127.0.0.1:" + port() + " -> 127.0.0.1:" + targetPort + (isBlackholed() ? " (blackholed)" : "");
    }
}
