package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.backstopmx.testkit.FakePrimaryMx;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import jakarta.mail.Session;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /metrics} and the health endpoints of a running appliance, scraped over HTTP while real mail flows: the
 * figures follow what happened (received, held while the primary is down, delivered once it is back).
 */
class MetricsEndpointTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();
    private FakePrimaryMx primary;
    private Appliance appliance;

    @BeforeEach
    void start() throws Exception {
        primary = FakePrimaryMx.start();
        appliance = Appliance.start(InProcessConfig.serving(dir, primary.port(), Duration.ofSeconds(1)),
                Clock.systemUTC());
    }

    @AfterEach
    void stop() throws Exception {
        appliance.close();
        primary.close();
    }

    @Test
    void metricsFollowTheMail() throws Exception {
        String before = scrape();
        assertThat(value(before, "backstop_queue_messages")).isZero();
        assertThat(value(before, "backstop_destination_up{destination=\"example.test\"}")).isEqualTo(1);
        assertThat(value(before, "backstop_queue_writable")).isEqualTo(1);
        assertThat(before).contains("jvm_memory_used_bytes", "process_cpu_usage", "netty_allocator_memory_used",
                "backstop_queue_db_connections_active");
        assertThat(value(before, "backstop_queue_db_size_bytes")).isPositive();

        primary.stop();
        send(3);
        await().atMost(WAIT).until(() -> value(scrape(), "backstop_destination_up{destination=\"example.test\"}") == 0);
        String down = scrape();
        assertThat(value(down, "backstop_queue_messages")).isEqualTo(3);
        assertThat(value(down, "backstop_delivery_attempts_total{destination=\"example.test\",result=\"deferred\"}"))
                .isGreaterThanOrEqualTo(1);
        assertThat(value(down, "backstop_delivery_attempts_total{destination=\"example.test\",result=\"delivered\"}"))
                .isZero();

        primary.restart();
        await().atMost(WAIT).until(() -> value(scrape(),
                "backstop_delivery_attempts_total{destination=\"example.test\",result=\"delivered\"}") == 3);
        String after = scrape();
        assertThat(value(after, "backstop_queue_messages")).isZero();
        assertThat(value(after, "backstop_destination_up{destination=\"example.test\"}")).isEqualTo(1);
        assertThat(value(after, "backstop_queue_residence_seconds_count")).isEqualTo(3);
        assertThat(value(after, "backstop_delivery_duration_seconds_count")).isGreaterThanOrEqualTo(1);
        assertThat(after).contains("backstop_delivery_duration_seconds_bucket{le=");
    }

    @Test
    void healthEndpointsAnswer() throws Exception {
        assertThat(get("/health/live").statusCode()).isEqualTo(200);
        HttpResponse<String> ready = get("/health/ready");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).isEqualTo("ready\n");
        assertThat(get("/nothing").statusCode()).isEqualTo(404);
        HttpResponse<String> om = http.send(HttpRequest.newBuilder(uri("/metrics"))
                .header("Accept", "application/openmetrics-text; version=1.0.0").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(om.headers().firstValue("Content-Type")).hasValueSatisfying(
                t -> assertThat(t).startsWith("application/openmetrics-text"));
        assertThat(om.body()).endsWith("# EOF\n");

        appliance.queue().close(); // the queue stops taking mail: not ready, with the reason
        HttpResponse<String> notReady = get("/health/ready");
        assertThat(notReady.statusCode()).isEqualTo(503);
        assertThat(notReady.body()).contains("queue");
    }

    private void send(int count) throws Exception {
        Session session = TestMail.session(appliance.smtpAddress());
        try (SMTPTransport t = (SMTPTransport) session.getTransport("smtp")) {
            t.connect();
            for (int i = 0; i < count; i++) {
                TestMail.send(t, session, TestMail.message("metrics-" + i, 5), "bob@example.test");
            }
        }
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + appliance.metricsAddress().getPort() + path);
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private String scrape() throws Exception {
        HttpResponse<String> r = get("/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    /** The value of one series in the text format, e.g. {@code name{label="v"}}; labels in the exposition's order. */
    static double value(String exposition, String series) {
        Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(exposition);
        if (!m.find()) {
            throw new AssertionError("no series " + series + " in:\n" + exposition);
        }
        return Double.parseDouble(m.group(1));
    }
}
