package org.backstopmx.app.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.config.HostPort;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTP API on {@code admin.listen} (127.0.0.1:9466 by default), JSON in and out, every request with
 * {@code Authorization: Bearer <token>}:
 *
 * <pre>
 * GET    /queue?limit=N        the queue, oldest first (mailq)
 * GET    /queue/ID             one message: envelope, recipients, last replies
 * GET    /queue/ID/body        the stored message (message/rfc822)
 * POST   /queue/ID/hold        hold its pending recipients
 * POST   /queue/ID/release     release them, due now
 * POST   /queue/ID/bounce      return them to the sender with a DSN
 * DELETE /queue/ID             delete it without notice
 * POST   /flush[?domain=D]     make pending mail due now, mark the destination up
 * GET    /stats                counters, oldest message, destinations down
 * GET    /recipients[?domain=D&amp;limit=N]  what the recipient cache knows (recipient-check: callout)
 * DELETE /recipients/ADDRESS   forget one address
 * POST   /recipients           {"addresses": [...]}: add them as valid
 * </pre>
 *
 * A missing or wrong token gets 401 and nothing else; an unknown message 404; a bad id or parameter 400; a queue that
 * cannot do it 503 with the reason. Changes and refusals are logged one line each (reads at DEBUG), never the token.
 */
public final class AdminServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);
    /** The one JSON mapper of the API, server and client side. */
    public static final ObjectMapper JSON = new ObjectMapper();
    private static final int DEFAULT_LIMIT = 1000;
    /** The start of the 404 reason for an address the recipient cache does not know. */
    static final String NOT_KNOWN = "not known to the recipient cache: ";

    private final HttpServer server;
    private final ExecutorService executor;
    private final QueueAdmin admin;
    private final byte[] token;

    private AdminServer(HttpServer server, ExecutorService executor, QueueAdmin admin, String token) {
        this.server = server;
        this.executor = executor;
        this.admin = admin;
        this.token = token.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Listens on {@code listen}; every request must carry {@code token}.
     *
     * @throws IOException when the address cannot be bound
     */
    public static AdminServer start(HostPort listen, QueueAdmin admin, String token) throws IOException {
        if (token == null || token.isBlank()) {
            throw new IllegalArgumentException("the admin API needs a token");
        }
        HttpServer server = HttpServer.create(new InetSocketAddress(listen.host(), listen.port()), 16);
        // queue commands block on the database and on fsync: off the accepting thread, two at a time at most
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "backstop-admin");
            t.setDaemon(true);
            return t;
        });
        AdminServer admin1 = new AdminServer(server, executor, admin, token);
        server.createContext("/", admin1::handle);
        server.setExecutor(executor);
        server.start();
        LOG.info("admin API listening on {}", admin1.address());
        return admin1;
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    private void handle(HttpExchange exchange) throws IOException {
        String method = exchange.getRequestMethod();
        URI uri = exchange.getRequestURI();
        int status;
        try (exchange) {
            if (!authorised(exchange)) {
                exchange.getResponseHeaders().add("WWW-Authenticate", "Bearer realm=\"backstop\"");
                status = send(exchange, 401, new QueueViews.Error("missing or wrong bearer token"));
            } else {
                status = route(exchange, method, uri);
            }
        } catch (RuntimeException e) {
            LOG.error("admin {} {}: cannot answer", method, uri.getPath(), e);
            return;
        }
        // changes (and refusals) are logged; reads only at DEBUG, so a script polling /stats does not flood the log
        if (!method.equals("GET") || status >= 400) {
            LOG.info("admin {} {} -> {} from {}", method, uri.getPath(), status,
                    exchange.getRemoteAddress().getAddress().getHostAddress());
        } else {
            LOG.debug("admin {} {} -> {}", method, uri.getPath(), status);
        }
    }

    private boolean authorised(HttpExchange exchange) {
        String given = exchange.getRequestHeaders().getFirst("Authorization");
        if (given == null || given.length() < 7 || !given.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        // compared in constant time: the answer's timing says nothing about how much of a guess was right
        return MessageDigest.isEqual(token, given.substring(7).trim().getBytes(StandardCharsets.UTF_8));
    }

    private int route(HttpExchange exchange, String method, URI uri) throws IOException {
        String[] path = uri.getPath().replaceAll("/+$", "").split("/");
        Map<String, String> query = query(uri);
        try {
            if (path.length == 2 && path[1].equals("queue") && method.equals("GET")) {
                return send(exchange, 200, admin.list(limit(query)));
            }
            if (path.length == 2 && path[1].equals("stats") && method.equals("GET")) {
                return send(exchange, 200, admin.stats());
            }
            if (path.length == 2 && path[1].equals("flush") && method.equals("POST")) {
                Optional<String> domain = Optional.ofNullable(query.get("domain")).filter(d -> !d.isBlank());
                return send(exchange, 200, admin.flush(domain));
            }
            if (path.length >= 2 && path[1].equals("recipients")) {
                return recipients(exchange, method, path, query);
            }
            if (path.length >= 3 && path[1].equals("queue")) {
                if (!QueueId.isValid(path[2])) {
                    return send(exchange, 400, new QueueViews.Error("not a queue id: " + path[2]));
                }
                QueueId id = new QueueId(path[2]);
                String action = path.length == 4 ? path[3] : "";
                if (method.equals("GET") && action.equals("body") && path.length == 4) {
                    Optional<InputStream> body = admin.body(id);
                    return body.isPresent() ? sendBody(exchange, body.get())
                            : send(exchange, 404, new QueueViews.Error("no message " + id + " in the queue"));
                }
                Optional<?> result = switch (method + " " + action) {
                    case "GET " -> admin.show(id);
                    case "POST hold" -> admin.hold(id);
                    case "POST release" -> admin.release(id);
                    case "POST bounce" -> admin.bounce(id);
                    case "DELETE " -> admin.delete(id);
                    default -> null;
                };
                if (result == null || path.length > 4) {
                    return send(exchange, 404, new QueueViews.Error("no such command: " + method + " " + uri.getPath()));
                }
                return result.isPresent() ? send(exchange, 200, result.get())
                        : send(exchange, 404, new QueueViews.Error("no message " + id + " in the queue"));
            }
            return send(exchange, 404, new QueueViews.Error("no such command: " + method + " " + uri.getPath()));
        } catch (IllegalArgumentException e) {
            return send(exchange, 400, new QueueViews.Error(e.getMessage()));
        } catch (QueueException e) {
            return send(exchange, 503, new QueueViews.Error(e.getMessage()));
        } catch (RuntimeException e) {
            LOG.error("admin {} {} failed", method, uri.getPath(), e);
            return send(exchange, 500, new QueueViews.Error("internal error: " + e + " (details in the log)"));
        }
    }

    private int recipients(HttpExchange exchange, String method, String[] path, Map<String, String> query)
            throws IOException, QueueException {
        if (path.length == 2 && method.equals("GET")) {
            Optional<String> domain = Optional.ofNullable(query.get("domain")).filter(d -> !d.isBlank());
            return send(exchange, 200, admin.recipients(domain, limit(query)));
        }
        if (path.length == 2 && method.equals("POST")) {
            QueueViews.RecipientImport body;
            try (InputStream in = exchange.getRequestBody()) {
                body = JSON.readValue(in, QueueViews.RecipientImport.class);
            } catch (IOException e) {
                throw new IllegalArgumentException("expected {\"addresses\": [...]}: " + e.getMessage());
            }
            if (body.addresses() == null) {
                throw new IllegalArgumentException("expected {\"addresses\": [...]}");
            }
            return send(exchange, 200, admin.importRecipients(body.addresses()));
        }
        if (path.length == 3 && method.equals("DELETE")) {
            Optional<QueueViews.Result> r = admin.forgetRecipient(path[2]);
            return r.isPresent() ? send(exchange, 200, r.get())
                    : send(exchange, 404, new QueueViews.Error(NOT_KNOWN + path[2]));
        }
        return send(exchange, 404, new QueueViews.Error("no such command: " + method + " " + String.join("/", path)));
    }

    private static int limit(Map<String, String> query) {
        String text = query.get("limit");
        if (text == null) {
            return DEFAULT_LIMIT;
        }
        try {
            int limit = Integer.parseInt(text);
            if (limit < 1) {
                throw new NumberFormatException();
            }
            return limit;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("limit must be a positive number, got \"" + text + "\"");
        }
    }

    private static Map<String, String> query(URI uri) {
        Map<String, String> query = new HashMap<>();
        String raw = uri.getRawQuery();
        if (raw == null || raw.isEmpty()) {
            return query;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            query.put(key, value);
        }
        return query;
    }

    private static int send(HttpExchange exchange, int status, Object body) throws IOException {
        byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(body);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
        return status;
    }

    private static int sendBody(HttpExchange exchange, InputStream body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "message/rfc822");
        exchange.sendResponseHeaders(200, 0); // chunked: the size on disk is known, but streaming needs no buffer
        try (body; OutputStream out = exchange.getResponseBody()) {
            body.transferTo(out);
        }
        return 200;
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdown();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
