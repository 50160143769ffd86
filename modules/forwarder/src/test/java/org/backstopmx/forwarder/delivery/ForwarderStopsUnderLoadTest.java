package org.backstopmx.forwarder.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.backstopmx.core.DsnRet;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.Liveness;
import org.backstopmx.core.Metrics;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.RetryPolicy;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.HostPort;
import org.backstopmx.core.config.QueueConfig;
import org.backstopmx.core.config.RetryConfig;
import org.backstopmx.forwarder.DnsjavaMxResolver;
import org.backstopmx.forwarder.RouteResolver;
import org.backstopmx.forwarder.smtp.SmtpTimeouts;
import org.backstopmx.queue.H2MailQueue;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.FaultyMailQueue;
import org.backstopmx.testkit.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A stop while the scheduler is busy inside H2: a queue of 20 000 due recipients, the primary down so that every claim
 * is followed at once by the next (claim, defer the batch, claim again), and {@link Forwarder#close()} in the middle of
 * a claim, six times over on the same queue.
 * Interrupting the scheduler there closed H2's file channel under it (the JDK closes the channel of an interrupted
 * thread), which damaged the running database; nothing of the kind may show in the log, and the queue must reopen with
 * every message.
 */
class ForwarderStopsUnderLoadTest {
    private static final Duration LIFETIME = Duration.ofDays(5);
    private static final int MESSAGES = 200;
    private static final int RECIPIENTS_EACH = 100;
    private static final int ROUNDS = 6;

    @TempDir
    Path dir;

    private final MutableClock clock = MutableClock.startingAt("2026-12-01T10:00:00Z");
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private FakePrimaryMx primary;
    private H2MailQueue queue;
    private FaultyMailQueue faulty;
    private SimpleMeterRegistry registry;
    private final Random random = new Random();

    @BeforeEach
    void start() throws Exception {
        log.start();
        root.addAppender(log);
        primary = FakePrimaryMx.start();
        primary.stop();
        queue = open();
    }

    @AfterEach
    void stop() throws Exception {
        root.detachAppender(log);
        if (queue != null) {
            queue.close();
        }
        primary.close();
    }

    private H2MailQueue open() throws Exception {
        return H2MailQueue.open(new QueueConfig(dir, LIFETIME, 0, 4.0, 64L * 1024 * 1024), 10_000_000, clock);
    }

    @Test
    void aStopWhileClaimingLeavesTheDatabaseWhole() throws Exception {
        fill();
        long total = MESSAGES * RECIPIENTS_EACH;
        assertThat(queue.stats().recipients(RecipientState.QUEUED)).isEqualTo(total);

        for (int round = 0; round < ROUNDS; round++) {
            clock.advance(Duration.ofHours(3)); // every recipient deferred by the round before is due again
            Forwarder forwarder = forwarder();
            forwarder.start(new Liveness(clock));
            // the scheduler is well into the queue: claiming and deferring batch after batch
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5))
                    .until(() -> forwarder.isDown("example.org") && deferred() > 1000);
            // and is stopped at a random moment of a claim's first milliseconds, when it is inside H2 (a thread
            // interrupted there, as close() used to do, made this fail in the first round or two)
            CountDownLatch claiming = new CountDownLatch(1);
            faulty.announceNext(FaultyMailQueue.Call.LEASE_DUE, claiming);
            assertThat(claiming.await(30, TimeUnit.SECONDS)).isTrue();
            Thread.sleep(random.nextInt(0, 6));
            forwarder.close();
            queue.close();
            assertThat(damage()).as("round %d", round).isEmpty();

            queue = open();
            assertThat(queue.stats().messages()).isEqualTo(MESSAGES);
            assertThat(queue.stats().recipients(RecipientState.QUEUED)
                    + queue.stats().recipients(RecipientState.DEFERRED)).isEqualTo(total);
        }
        assertThat(lines("queue closing: ")).hasSize(ROUNDS)
                .allSatisfy(l -> assertThat(l).endsWith("recipients leased but not recorded are due again"));
    }

    /** 200 messages of 100 recipients each, committed by eight threads through the group commit. */
    private void fill() throws Exception {
        ExecutorService senders = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int thread = t;
                done.add(senders.submit(() -> {
                    for (int i = 0; i < MESSAGES / 8; i++) {
                        put("m" + thread + "-" + i);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            senders.shutdown();
        }
    }

    private void put(String name) throws Exception {
        QueueId id = QueueId.next(clock);
        byte[] body = ("Subject: " + name + "\r\n\r\nbody\r\n").getBytes(StandardCharsets.UTF_8);
        List<EnvelopeRecipient> rcpts = new ArrayList<>();
        for (int r = 0; r < RECIPIENTS_EACH; r++) {
            rcpts.add(new EnvelopeRecipient(name + "-" + r + "@example.org", null, null));
        }
        try (IncomingMessage m = queue.receive(id)) {
            m.body().write(body);
            m.commit(new Envelope(id, clock.instant(), "192.0.2.7", "client.example.net", "sender@example.net", null,
                    DsnRet.FULL, body.length, rcpts));
        }
    }

    private Forwarder forwarder() {
        BackstopConfig config = BackstopConfig.defaults().withDomains(Map.of("example.org",
                new DomainConfig("example.org", new HostPort("127.0.0.1", primary.port()), null, null)));
        DnsjavaMxResolver dns = new DnsjavaMxResolver(new DnsConfig(new HostPort("127.0.0.1", 9), Duration.ofMillis(200)));
        ForwarderSettings settings = ForwarderSettings.defaults("backup.example.org")
                .withTimeouts(SmtpTimeouts.all(Duration.ofSeconds(5)));
        faulty = new FaultyMailQueue(queue);
        registry = new SimpleMeterRegistry();
        return new Forwarder(settings, faulty, new RouteResolver(config, dns, new Random(1)), dns,
                new RetryPolicy(new RetryConfig(Duration.ofMinutes(5), Duration.ofMinutes(67)), LIFETIME,
                        new Random(7)),
                new ForwarderMetrics(registry, config.servedDomains()), clock);
    }

    /** Log lines that say H2's file was closed under it or a write of it failed. */
    private List<String> damage() {
        List<String> found = new ArrayList<>();
        for (ILoggingEvent e : log.list) {
            StringBuilder text = new StringBuilder(e.getFormattedMessage());
            for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
                text.append(" | ").append(t.getClassName()).append(": ").append(t.getMessage());
            }
            String s = text.toString();
            if (s.contains("ClosedByInterrupt") || s.contains("ClosedChannel") || s.contains("Writing to")
                    || s.contains("cannot release") || s.contains("database has been closed")
                    || e.getLoggerName().equals("h2database") && e.getLevel().isGreaterOrEqual(Level.WARN)) {
                found.add(e.getLevel() + " " + e.getLoggerName() + ": " + s);
            }
        }
        return found;
    }

    private double deferred() {
        return registry.find(Metrics.DELIVERY_ATTEMPTS).tag("result", "deferred").counters().stream()
                .mapToDouble(c -> c.count()).sum();
    }

    private List<String> lines(String prefix) {
        return log.list.stream().map(ILoggingEvent::getFormattedMessage).filter(m -> m.startsWith(prefix)).toList();
    }
}
