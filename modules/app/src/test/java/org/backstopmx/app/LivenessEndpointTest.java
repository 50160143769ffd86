package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.backstopmx.app.metrics.MetricsServer;
import org.backstopmx.core.DsnRet;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.Liveness;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.HostPort;
import org.backstopmx.forwarder.DnsjavaMxResolver;
import org.backstopmx.forwarder.delivery.Forwarder;
import org.backstopmx.queue.H2MailQueue;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.FaultyMailQueue;
import org.backstopmx.testkit.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /health/live} over real HTTP: 200 while every background loop turns; 503 naming the loop when one cannot go
 * on (out of memory) or is stuck beyond its bound, so that a supervisor restarts the process. The loop is the real
 * forwarder's scheduler over the real queue, with faults put in its way.
 */
class LivenessEndpointTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private final MutableClock clock = MutableClock.startingAt("2026-12-01T10:00:00Z");
    private final Liveness liveness = new Liveness(clock);
    private final HttpClient http = HttpClient.newHttpClient();
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private FakePrimaryMx primary;
    private BackstopConfig config;
    private H2MailQueue real;
    private FaultyMailQueue queue;
    private Forwarder forwarder;
    private MetricsServer server;

    @BeforeEach
    void start() throws Exception {
        primary = FakePrimaryMx.start();
        config = InProcessConfig.serving(dir, primary.port(), Duration.ofSeconds(30))
                .withDomains(Map.of("example.test", new DomainConfig("example.test",
                        new HostPort("127.0.0.1", primary.port()), null, null)));
        real = H2MailQueue.open(config.queue(), config.smtp().maxMessageSize(), clock, liveness);
        queue = new FaultyMailQueue(real);
        forwarder = Forwarder.of(config, queue,
                new DnsjavaMxResolver(new DnsConfig(new HostPort("127.0.0.1", 9), Duration.ofMillis(200))), registry,
                clock);
        server = MetricsServer.start(new HostPort("127.0.0.1", 0), registry, liveness::problem, Optional::empty);
    }

    @AfterEach
    void stop() throws Exception {
        closeParts();
        primary.close();
    }

    private void closeParts() {
        if (server != null) {
            server.close();
            forwarder.close();
            real.close();
            server = null;
        }
    }

    @Test
    void aLoopThatCannotGoOnMakesTheProcessNotLiveAndDeliveryStillGoesOn() throws Exception {
        assertThat(get("/health/live")).isEqualTo(List.of("200", "live"));
        queue.failNext(FaultyMailQueue.Call.LEASE_DUE, 1, () -> new OutOfMemoryError("Java heap space"));
        put("alice@example.test");
        forwarder.start(liveness);

        await().atMost(WAIT).until(() -> primary.transactions().size() == 1);
        assertThat(get("/health/live")).isEqualTo(List.of("503", "not live: backstop-scheduler cannot go on"
                + " (scheduling deliveries: java.lang.OutOfMemoryError: Java heap space)"));
        assertThat(get("/health/ready")).as("readiness is another question").isEqualTo(List.of("200", "ready"));
    }

    @Test
    void aStuckSchedulerMakesTheProcessNotLiveUntilItTurnsAgain() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        queue.stallNext(FaultyMailQueue.Call.LEASE_DUE, inside, release);
        put("alice@example.test");
        forwarder.start(liveness);
        assertThat(inside.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(get("/health/live")).containsExactly("200", "live");

        clock.advance(Forwarder.SCHEDULER_BOUND.plusSeconds(1));
        // the queue's loops may be named too until they next beat (they wait in real time); the scheduler is stuck
        List<String> stuck = get("/health/live");
        assertThat(stuck.get(0)).isEqualTo("503");
        assertThat(stuck.get(1)).contains("backstop-scheduler has not turned for 301 s (at most 300 s)");

        release.countDown();
        await().atMost(WAIT).until(() -> primary.transactions().size() == 1);
        await().atMost(WAIT).until(() -> !get("/health/live").get(1).contains("backstop-scheduler"));
    }

    @Test
    void theApplianceServesTheLivenessOfItsLoops() throws Exception {
        closeParts(); // the appliance opens the queue itself
        Appliance appliance = Appliance.start(config, clock);
        try {
            assertThat(get(appliance, "/health/live")).containsExactly("200", "live");
            clock.advance(Duration.ofHours(1)); // the maintenance timer looks every 5 minutes of real time
            List<String> stale = get(appliance, "/health/live");
            assertThat(stale.get(0)).isEqualTo("503");
            assertThat(stale.get(1)).contains("queue-maintenance has not turned for 3600 s");
        } finally {
            appliance.close();
        }
    }

    private List<String> get(String path) throws Exception {
        return get(server.address().getPort(), path);
    }

    private List<String> get(Appliance appliance, String path) throws Exception {
        return get(appliance.metricsAddress().getPort(), path);
    }

    /** Status and body (without its final newline). */
    private List<String> get(int port, String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        return List.of(String.valueOf(r.statusCode()), r.body().stripTrailing());
    }

    private void put(String... recipients) throws Exception {
        QueueId id = QueueId.next(clock);
        byte[] body = ("Subject: " + id + "\r\n\r\nbody\r\n").getBytes(StandardCharsets.UTF_8);
        try (IncomingMessage m = real.receive(id)) {
            m.body().write(body);
            m.commit(new Envelope(id, clock.instant(), "192.0.2.7", "client.example.net", "sender@example.net", null,
                    DsnRet.FULL, body.length,
                    java.util.Arrays.stream(recipients).map(r -> new EnvelopeRecipient(r, null, null)).toList()));
        }
    }
}
