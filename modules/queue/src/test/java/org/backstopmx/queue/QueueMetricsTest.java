package org.backstopmx.queue;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.Metrics;
import org.backstopmx.core.QueueId;
import org.backstopmx.testkit.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The queue's gauges follow what is stored: totals at once, per-domain figures at each refresh. */
class QueueMetricsTest {
    @TempDir
    Path dir;

    private final MutableClock clock = MutableClock.startingAt("2026-11-28T10:00:00Z");
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private H2MailQueue queue;
    private QueueMetrics metrics;

    @BeforeEach
    void open() throws Exception {
        queue = H2MailQueue.open(TestMessages.config(dir), TestMessages.MAX_MESSAGE_SIZE, clock);
        metrics = QueueMetrics.bind(queue, registry, Set.of("example.org"), clock, Duration.ofHours(1));
    }

    @AfterEach
    void close() {
        metrics.close();
        queue.close();
    }

    @Test
    void gaugesFollowTheQueue() throws Exception {
        assertThat(gauge(Metrics.QUEUE_MESSAGES)).isZero();
        assertThat(gauge(Metrics.QUEUE_WRITABLE)).isEqualTo(1);
        put(1000, "a@example.org", "b@example.org", "c@elsewhere.net");
        clock.advance(Duration.ofMinutes(10));
        put(500, "d@example.org");
        clock.advance(Duration.ofMinutes(5));

        assertThat(gauge(Metrics.QUEUE_MESSAGES)).as("kept as it goes: no refresh needed").isEqualTo(2);
        assertThat(gauge(Metrics.QUEUE_BYTES)).isEqualTo(1500);
        assertThat(recipients("example.org", "queued")).as("not refreshed yet").isZero();

        metrics.refresh();
        assertThat(recipients("example.org", "queued")).isEqualTo(3);
        assertThat(recipients(Metrics.OTHER, "queued")).as("not served: summed as other").isEqualTo(1);
        assertThat(recipients("example.org", "deferred")).isZero();
        assertThat(age("example.org")).isEqualTo(15 * 60);
        assertThat(age(Metrics.OTHER)).isEqualTo(15 * 60);

        queue.close();
        assertThat(gauge(Metrics.QUEUE_WRITABLE)).isZero();
    }

    @Test
    void recipientsAboutToExpireAreCountedPerDomainWithinTheExpiryWarning() throws Exception {
        // lifetime 5d, expiry warning 24h (the defaults)
        put(100, "a@example.org", "b@example.org", "c@elsewhere.net");
        clock.advance(Duration.ofDays(2));
        put(100, "d@example.org");
        clock.advance(Duration.ofDays(2).minusMinutes(1));
        metrics.refresh();
        assertThat(expiring("example.org")).as("the first expires in 24h01m: not yet within the warning").isZero();

        clock.advance(Duration.ofMinutes(2));
        metrics.refresh();
        assertThat(expiring("example.org")).as("a and b expire in 23h59m; d only in 2d23h59m").isEqualTo(2);
        assertThat(expiring(Metrics.OTHER)).isEqualTo(1);
    }

    @Test
    void heldRecipientsAreNotCountedAsAboutToExpire() throws Exception {
        QueueId id = put(100, "a@example.org");
        queue.hold(id);
        clock.advance(Duration.ofDays(4).plusHours(1));
        metrics.refresh();
        assertThat(expiring("example.org")).isZero();
        assertThat(recipients("example.org", "held")).isEqualTo(1);
    }

    private double expiring(String domain) {
        return registry.get(Metrics.QUEUE_EXPIRING).tag("domain", domain).gauge().value();
    }

    private double gauge(String name) {
        return registry.get(name).gauge().value();
    }

    private double recipients(String domain, String state) {
        return registry.get(Metrics.QUEUE_RECIPIENTS).tag("domain", domain).tag("state", state).gauge().value();
    }

    private double age(String domain) {
        return registry.get(Metrics.QUEUE_OLDEST_AGE).tag("domain", domain).gauge().value();
    }

    private QueueId put(int size, String... recipients) throws Exception {
        QueueId id = QueueId.next(clock);
        byte[] body = TestMessages.body(id, size);
        List<EnvelopeRecipient> rcpts = Arrays.stream(recipients).map(EnvelopeRecipient::of).toList();
        try (IncomingMessage m = queue.receive(id)) {
            OutputStream out = m.body();
            out.write(body);
            m.commit(new Envelope(id, clock.instant(), "192.0.2.7", "mx.example.net", "s@example.net", null, null,
                    body.length, rcpts));
        }
        return id;
    }
}
