package org.backstopmx.app.metrics;

import com.sun.net.httpserver.HttpExchange;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.Supplier;
import org.backstopmx.core.config.HostPort;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP endpoint on {@code metrics.listen}: {@code /metrics} (the Prometheus client's exporter: text format, or
 * OpenMetrics when the scraper asks for it), {@code /health/live} (200 while every background loop turns, else 503
 * naming the loop that is stuck or cannot go on: the supervisor restarts the process) and {@code /health/ready} (200
 * when the listener is bound and the queue takes mail, else 503 with the reason), for container orchestrators and
 * load balancers.
 */
public final class MetricsServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetricsServer.class);

    private final HTTPServer server;
    private final InetSocketAddress address;

    private MetricsServer(HTTPServer server, InetSocketAddress address) {
        this.server = server;
        this.address = address;
    }

    /**
     * Starts serving.
     *
     * @param notReady empty when ready, else why not (one line)
     * @throws IOException when {@code listen} cannot be bound
     */
    public static MetricsServer start(HostPort listen, PrometheusMeterRegistry registry,
            Supplier<Optional<String>> notReady) throws IOException {
        return start(listen, registry, Optional::empty, notReady);
    }

    /**
     * Starts serving.
     *
     * @param notLive  empty while the process is live, else why not (one line: {@link org.backstopmx.core.Liveness})
     * @param notReady empty when ready, else why not (one line)
     * @throws IOException when {@code listen} cannot be bound
     */
    public static MetricsServer start(HostPort listen, PrometheusMeterRegistry registry,
            Supplier<Optional<String>> notLive, Supplier<Optional<String>> notReady) throws IOException {
        HTTPServer server = HTTPServer.builder()
                .hostname(listen.host())
                .port(listen.port())
                .registry(registry.getPrometheusRegistry())
                .registerHealthHandler(false)
                .defaultHandler(exchange -> health(exchange, notLive, notReady))
                .buildAndStart();
        InetSocketAddress bound = new InetSocketAddress(listen.host(), server.getPort());
        LOG.info("metrics and health listening on {}:{} (/metrics, /health/live, /health/ready)", listen.host(),
                server.getPort());
        return new MetricsServer(server, bound);
    }

    private static void health(HttpExchange exchange, Supplier<Optional<String>> notLive,
            Supplier<Optional<String>> notReady) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            int status;
            String body;
            if (path.equals("/health/live")) {
                Optional<String> why = notLive.get();
                status = why.isEmpty() ? 200 : 503;
                body = why.map(w -> "not live: " + w + "\n").orElse("live\n");
            } else if (path.equals("/health/ready")) {
                Optional<String> why = notReady.get();
                status = why.isEmpty() ? 200 : 503;
                body = why.map(w -> "not ready: " + w + "\n").orElse("ready\n");
            } else {
                status = 404;
                body = "not found: try /metrics, /health/live or /health/ready\n";
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
            boolean head = exchange.getRequestMethod().equals("HEAD");
            exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
            if (!head) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            }
        }
    }

    /** The bound address (the port, when {@code metrics.listen} asked for port 0). */
    public InetSocketAddress address() {
        return address;
    }

    @Override
    public void close() {
        server.close();
    }
}
