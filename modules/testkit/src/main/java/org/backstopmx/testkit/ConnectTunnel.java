package org.backstopmx.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An HTTP CONNECT proxy on 127.0.0.1 (RFC 9110 §9.3.6) that sends every tunnel to one local port, whatever host it
 * is asked for: an HTTPS client given {@link #selector()} keeps the URL's host name for SNI and the certificate check
 * while its bytes reach a test server on loopback. Records each {@code CONNECT} target ({@link #targets()}).
 */
public final class ConnectTunnel implements AutoCloseable {
    private final ServerSocket server;
    private final int targetPort;
    private final List<String> targets = new CopyOnWriteArrayList<>();

    private ConnectTunnel(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        LoopbackAccept.start(server, "connect-tunnel", this::tunnel);
    }

    /** A tunnel to {@code 127.0.0.1:targetPort}. */
    public static ConnectTunnel to(int targetPort) throws IOException {
        return new ConnectTunnel(targetPort);
    }

    /** A proxy selector that sends every URI through this tunnel. */
    public ProxySelector selector() {
        SocketAddress address = server.getLocalSocketAddress();
        return new ProxySelector() {
            @Override
            public List<Proxy> select(URI uri) {
                return List.of(new Proxy(Proxy.Type.HTTP, address));
            }

            @Override
            public void connectFailed(URI uri, SocketAddress sa, IOException ioe) {
                // the test sees the client's failure
            }
        };
    }

    /** The {@code host:port} of each CONNECT so far. */
    public List<String> targets() {
        return List.copyOf(targets);
    }

    private void tunnel(Socket client) {
        try (client; Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort)) {
            String head = head(client.getInputStream());
            String[] request = head.split("\r\n", 2)[0].split(" ");
            if (request.length < 2 || !request[0].equals("CONNECT")) {
                client.getOutputStream().write("HTTP/1.1 405 CONNECT only\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                return;
            }
            targets.add(request[1]);
            client.getOutputStream().write("HTTP/1.1 200 Connection established\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            Thread back = LoopbackAccept.daemon("connect-tunnel-back", () -> pipe(upstream, client));
            pipe(client, upstream);
            back.join();
        } catch (IOException e) {
            // a client that went away
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The request head, up to the blank line, read byte by byte so that nothing after it is consumed. */
    private static String head(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1) {
            out.write(b);
            String s = out.toString(StandardCharsets.US_ASCII);
            if (s.endsWith("\r\n\r\n")) {
                return s;
            }
        }
        throw new IOException("no request");
    }

    private static void pipe(Socket from, Socket to) {
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            byte[] buffer = new byte[8192];
            int n;
            while ((n = in.read(buffer)) != -1) {
                out.write(buffer, 0, n);
                out.flush();
            }
            to.shutdownOutput();
        } catch (IOException e) {
            // either side closed
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }

    /** Where the tunnel listens. */
    public InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }
}
