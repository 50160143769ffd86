package org.backstopmx.forwarder.sts;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;

/**
 * The policy hosts {@code mta-sts.<domain>} of a test: the JDK's {@link HttpsServer} on 127.0.0.1 with a certificate
 * of the test CA, answering {@code /.well-known/mta-sts.txt} per {@code Host} header as it is told. Counts requests.
 */
final class PolicyServer implements AutoCloseable {
    /** What a policy host answers. */
    record Answer(int status, String contentType, String body, String location) {
        static Answer policy(String body) {
            return new Answer(200, "text/plain", body, null);
        }

        static Answer status(int status) {
            return new Answer(status, "text/plain", "", null);
        }
    }

    private final HttpsServer server;
    private final Map<String, Answer> answers = new ConcurrentHashMap<>();
    private final AtomicInteger requests = new AtomicInteger();

    PolicyServer(SSLContext certificate) throws IOException {
        server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(certificate));
        server.createContext("/.well-known/mta-sts.txt", this::handle);
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    /** What {@code mta-sts.<domain>} answers from now on. */
    PolicyServer answer(String domain, Answer answer) {
        answers.put("mta-sts." + domain, answer);
        return this;
    }

    int requests() {
        return requests.get();
    }

    private void handle(HttpExchange exchange) throws IOException {
        requests.incrementAndGet();
        String host = String.valueOf(exchange.getRequestHeaders().getFirst("Host")).replaceAll(":\\d+$", "");
        Answer a = answers.getOrDefault(host, Answer.status(404));
        byte[] body = a.body().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", a.contentType());
        if (a.location() != null) {
            exchange.getResponseHeaders().set("Location", a.location());
        }
        exchange.sendResponseHeaders(a.status(), body.length == 0 ? -1 : body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
