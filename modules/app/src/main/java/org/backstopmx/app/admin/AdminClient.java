package org.backstopmx.app.admin;

import com.fasterxml.jackson.databind.JavaType;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.config.HostPort;

/** The CLI's side of the admin API: {@link QueueAdmin} over HTTP with the bearer token. */
public final class AdminClient implements QueueAdmin {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    /** A bounce or a hold waits for an fsync; a listing of a large queue takes a while. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(2);

    private final HttpClient http;
    private final URI base;
    private final String token;
    private final String where;

    private AdminClient(URI base, String token, String where) {
        this.http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build();
        this.base = base;
        this.token = token;
        this.where = where;
    }

    /**
     * A client for the API on {@code listen} (a wildcard address is reached on loopback), or empty when nothing
     * listens there: the appliance is not running.
     */
    public static Optional<AdminClient> connect(HostPort listen, String token) {
        String host = listen.host();
        if (host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]") || host.isEmpty()) {
            host = "127.0.0.1";
        }
        String where = host + ":" + listen.port();
        try (Socket probe = new Socket()) {
            probe.connect(new InetSocketAddress(host, listen.port()), (int) CONNECT_TIMEOUT.toMillis());
        } catch (IOException e) {
            return Optional.empty();
        }
        String authority = host.contains(":") ? "[" + host + "]" : host;
        return Optional.of(new AdminClient(URI.create("http://" + authority + ":" + listen.port()), token, where));
    }

    /** Where the API answered, for messages. */
    public String where() {
        return where;
    }

    @Override
    public QueueViews.Listing list(int limit) throws QueueException {
        return call("GET", "/queue?limit=" + limit, QueueViews.Listing.class).orElseThrow();
    }

    @Override
    public Optional<QueueViews.Message> show(QueueId id) throws QueueException {
        return call("GET", "/queue/" + id.value(), QueueViews.Message.class);
    }

    @Override
    public Optional<InputStream> body(QueueId id) throws QueueException {
        HttpResponse<InputStream> response = send(request("GET", "/queue/" + id.value() + "/body"),
                HttpResponse.BodyHandlers.ofInputStream());
        if (response.statusCode() == 200) {
            return Optional.of(response.body());
        }
        try (InputStream in = response.body()) {
            return failed(response.statusCode(), in.readAllBytes());
        } catch (IOException e) {
            throw unreachable(e);
        }
    }

    @Override
    public Optional<QueueViews.Result> hold(QueueId id) throws QueueException {
        return call("POST", "/queue/" + id.value() + "/hold", QueueViews.Result.class);
    }

    @Override
    public Optional<QueueViews.Result> release(QueueId id) throws QueueException {
        return call("POST", "/queue/" + id.value() + "/release", QueueViews.Result.class);
    }

    @Override
    public Optional<QueueViews.Result> bounce(QueueId id) throws QueueException {
        return call("POST", "/queue/" + id.value() + "/bounce", QueueViews.Result.class);
    }

    @Override
    public Optional<QueueViews.Result> delete(QueueId id) throws QueueException {
        return call("DELETE", "/queue/" + id.value(), QueueViews.Result.class);
    }

    @Override
    public QueueViews.Result flush(Optional<String> domain) throws QueueException {
        String path = "/flush" + domain.map(d -> "?domain=" + URLEncoder.encode(d, StandardCharsets.UTF_8)).orElse("");
        return call("POST", path, QueueViews.Result.class).orElseThrow();
    }

    @Override
    public QueueViews.Stats stats() throws QueueException {
        return call("GET", "/stats", QueueViews.Stats.class).orElseThrow();
    }

    @Override
    public QueueViews.KnownRecipients recipients(Optional<String> domain, int limit) throws QueueException {
        String path = "/recipients?limit=" + limit
                + domain.map(d -> "&domain=" + URLEncoder.encode(d, StandardCharsets.UTF_8)).orElse("");
        return call("GET", path, QueueViews.KnownRecipients.class).orElseThrow();
    }

    @Override
    public Optional<QueueViews.Result> forgetRecipient(String address) throws QueueException {
        return call("DELETE", "/recipients/" + URLEncoder.encode(address, StandardCharsets.UTF_8),
                QueueViews.Result.class);
    }

    @Override
    public QueueViews.Result importRecipients(java.util.List<String> addresses) throws QueueException {
        byte[] body;
        try {
            body = AdminServer.JSON.writeValueAsBytes(new QueueViews.RecipientImport(addresses));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        HttpRequest request = HttpRequest.newBuilder(base.resolve("/recipients")).timeout(REQUEST_TIMEOUT)
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        return read(send(request, HttpResponse.BodyHandlers.ofByteArray()), QueueViews.Result.class).orElseThrow();
    }

    @Override
    public void close() {
    }

    private <T> Optional<T> call(String method, String path, Class<T> type) throws QueueException {
        return read(send(request(method, path), HttpResponse.BodyHandlers.ofByteArray()), type);
    }

    private <T> Optional<T> read(HttpResponse<byte[]> response, Class<T> type) throws QueueException {
        if (response.statusCode() != 200) {
            return failed(response.statusCode(), response.body());
        }
        try {
            JavaType t = AdminServer.JSON.getTypeFactory().constructType(type);
            return Optional.of(AdminServer.JSON.readValue(response.body(), t));
        } catch (IOException e) {
            throw new QueueException(QueueException.Kind.UNAVAILABLE, "admin API at " + where
                    + " sent an answer this command cannot read: " + e.getMessage(), e);
        }
    }

    /** 404 for a message (or a cached address) is "no such message" (empty); every other status is an error with the server's reason. */
    private <T> Optional<T> failed(int status, byte[] body) throws QueueException {
        String reason;
        try {
            reason = AdminServer.JSON.readValue(body, QueueViews.Error.class).error();
        } catch (IOException e) {
            reason = new String(body, StandardCharsets.UTF_8).strip();
        }
        if (status == 404 && (reason.startsWith("no message") || reason.startsWith(AdminServer.NOT_KNOWN))) {
            return Optional.empty();
        }
        if (status == 401) {
            throw new QueueException(QueueException.Kind.UNAVAILABLE, "admin API at " + where
                    + " refused the token (401 " + reason + "); check admin.token or admin.token-file");
        }
        throw new QueueException(QueueException.Kind.UNAVAILABLE, "admin API at " + where + ": " + status + " "
                + reason);
    }

    private HttpRequest request(String method, String path) {
        return HttpRequest.newBuilder(base.resolve(path)).timeout(REQUEST_TIMEOUT)
                .header("Authorization", "Bearer " + token)
                .method(method, HttpRequest.BodyPublishers.noBody()).build();
    }

    private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) throws QueueException {
        try {
            return http.send(request, handler);
        } catch (IOException e) {
            throw unreachable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QueueException(QueueException.Kind.UNAVAILABLE, "interrupted", e);
        }
    }

    private QueueException unreachable(IOException e) {
        String what = e instanceof ConnectException ? "is not reachable" : "failed: " + e;
        return new QueueException(QueueException.Kind.UNAVAILABLE, "admin API at " + where + " " + what, e);
    }
}
