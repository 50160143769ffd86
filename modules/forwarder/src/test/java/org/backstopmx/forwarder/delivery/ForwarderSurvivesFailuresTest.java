package org.backstopmx.forwarder.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.backstopmx.core.DsnRet;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.EtrnService;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.Liveness;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
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
 * The running forwarder (its scheduler thread started) over the real H2 queue, with faults put between the two: the
 * scheduler and the delivery workers go on after any exception and any error they can survive, log it once, and every
 * message still reaches the primary.
 */
class ForwarderSurvivesFailuresTest {
    private static final Duration LIFETIME = Duration.ofDays(5);
    private static final RetryConfig RETRY = new RetryConfig(Duration.ofMinutes(5), Duration.ofMinutes(67));

    @TempDir
    Path dir;

    private final MutableClock clock = MutableClock.startingAt("2026-12-01T10:00:00Z");
    private final Liveness liveness = new Liveness(clock);
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final Logger livenessLog = (Logger) LoggerFactory.getLogger(Liveness.class);
    private FakePrimaryMx primary;
    private H2MailQueue real;
    private FaultyMailQueue queue;
    private Forwarder forwarder;

    @BeforeEach
    void start() throws Exception {
        log.start();
        livenessLog.addAppender(log);
        primary = FakePrimaryMx.start();
        real = H2MailQueue.open(new QueueConfig(dir, LIFETIME, 0, 4.0, 64L * 1024 * 1024), 10_000_000, clock);
        queue = new FaultyMailQueue(real);
    }

    private Forwarder forwarder(int concurrency) {
        BackstopConfig config = BackstopConfig.defaults().withDomains(Map.of("example.org",
                new DomainConfig("example.org", new HostPort("127.0.0.1", primary.port()), null, null)));
        DnsjavaMxResolver dns = new DnsjavaMxResolver(new DnsConfig(new HostPort("127.0.0.1", 9), Duration.ofMillis(200)));
        ForwarderSettings settings = ForwarderSettings.defaults("backup.example.org")
                .withTimeouts(SmtpTimeouts.all(Duration.ofSeconds(5))).withConcurrency(concurrency);
        return new Forwarder(settings, queue, new RouteResolver(config, dns, new Random(1)), dns,
                new RetryPolicy(RETRY, LIFETIME, new Random(7)),
                new ForwarderMetrics(new SimpleMeterRegistry(), config.servedDomains()), clock);
    }

    @AfterEach
    void stop() throws Exception {
        livenessLog.detachAppender(log);
        if (forwarder != null) {
            forwarder.close();
        }
        real.close();
        primary.close();
    }

    @Test
    void theSchedulerGoesOnAfterStackOverflowsAndExceptionsInItsClaims() throws Exception {
        // what a cyclic H2 exception chain did to the scheduler on a full disk, then what a closed database throws
        queue.failNext(FaultyMailQueue.Call.LEASE_DUE, 2, StackOverflowError::new)
                .failNext(FaultyMailQueue.Call.LEASE_DUE, 2,
                        () -> new IllegalStateException("The database has been closed [90098-232]"));
        Set<String> ids = new TreeSet<>();
        for (int i = 0; i < 20; i++) {
            ids.add(put("alice@example.org").value());
        }
        forwarder = forwarder(4);
        forwarder.start(liveness);

        await().atMost(Duration.ofSeconds(30)).until(() -> primary.transactions().size() >= 20);
        await().atMost(Duration.ofSeconds(10)).until(() -> real.stats().messages() == 0);
        assertThat(queue.faulted(FaultyMailQueue.Call.LEASE_DUE)).isEqualTo(4);
        assertThat(primary.transactions()).hasSize(20);
        assertThat(primary.transactions().stream().map(t -> subject(t.data())).toList())
                .containsExactlyInAnyOrderElementsOf(ids);
        assertThat(liveness.problem()).isEmpty();
        assertThat(lines(Level.ERROR)).as("the run of four failures is logged once, with its cause")
                .containsExactly("backstop-scheduler: scheduling deliveries failed; going on");
        assertThat(log.list.get(0).getThrowableProxy().getClassName()).isEqualTo(StackOverflowError.class.getName());
        assertThat(lines(Level.INFO)).containsExactly("backstop-scheduler: going on normally again after 4 failures");
    }

    @Test
    void aConnectionCarriesItsNextMessagesWhileEarlierOutcomesAreStillBeingRecorded() throws Exception {
        // every recording stalls, as behind a slow fsync: the one connection goes on for OutcomePipeline.DEPTH
        // messages, then waits for the oldest of their outcomes
        CountDownLatch entered = new CountDownLatch(OutcomePipeline.DEPTH);
        CountDownLatch release = new CountDownLatch(1);
        for (int i = 0; i < OutcomePipeline.DEPTH; i++) {
            queue.stallNext(FaultyMailQueue.Call.RECORD_OUTCOMES, entered, release);
        }
        for (int i = 0; i < 8; i++) {
            put("alice@example.org");
        }
        forwarder = forwarder(1);
        forwarder.start(liveness);

        assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5))
                .until(() -> primary.transactions().size() == OutcomePipeline.DEPTH);
        assertThat(real.stats().messages()).as("nothing recorded yet, nothing removed").isEqualTo(8);

        release.countDown();
        await().atMost(Duration.ofSeconds(30)).until(() -> real.stats().messages() == 0);
        assertThat(primary.transactions()).as("each message once: a job stays leased until its outcome is recorded")
                .hasSize(8);
        assertThat(liveness.problem()).isEmpty();
    }

    @Test
    void aWorkerGoesOnAfterAnErrorInADeliveryAndItsLaneKeepsFlowing() throws Exception {
        // one connection for the whole lane: a worker that died would leave every later message waiting for it
        queue.failNext(FaultyMailQueue.Call.RECORD_OUTCOMES, 1, StackOverflowError::new);
        for (int i = 0; i < 10; i++) {
            put("alice@example.org");
        }
        forwarder = forwarder(1);
        forwarder.start(liveness);

        // the first message went out, but its outcome was not recorded: it stays leased; the nine others are done
        await().atMost(Duration.ofSeconds(30)).until(() -> real.stats().messages() == 1);
        assertThat(primary.transactions()).hasSize(10);
        assertThat(lines(Level.ERROR)).singleElement().asString().startsWith("backstop-delivery: ")
                .contains(": recording the outcome of a delivery to example.org (its recipients come due when the lease"
                        + " ends) failed");

        // its lease ends: it is tried again and recorded
        clock.advance(Duration.ofHours(2));
        forwarder.wake();
        await().atMost(Duration.ofSeconds(30)).until(() -> real.stats().messages() == 0);
        assertThat(primary.transactions()).hasSize(11);
        assertThat(liveness.problem()).isEmpty();
    }

    @Test
    void aScheduleReadThatKeepsFailingIsLoggedOnceAndDeliveryResumesWhenItWorksAgain() throws Exception {
        forwarder = forwarder(4);
        forwarder.start(liveness);
        await().atMost(Duration.ofSeconds(10)).until(() -> queue.faulted(FaultyMailQueue.Call.NEXT_DUE) == 0
                && primary.transactions().isEmpty());
        queue.failNext(FaultyMailQueue.Call.NEXT_DUE, 6,
                () -> new org.backstopmx.core.QueueException(org.backstopmx.core.QueueException.Kind.STORAGE_FULL,
                        "cannot read the schedule: no space left on the queue's disk"));
        forwarder.wake();
        await().atMost(Duration.ofSeconds(30)).until(() -> queue.faulted(FaultyMailQueue.Call.NEXT_DUE) == 6);

        put("alice@example.org");
        await().atMost(Duration.ofSeconds(30)).until(() -> real.stats().messages() == 0);
        assertThat(primary.transactions()).hasSize(1);
        assertThat(lines(Level.ERROR)).hasSize(1);
    }

    @Test
    void aProbeThatFailsUnexpectedlyIsLoggedOnceAndTheMailGoesOutAtItsRetry() throws Exception {
        primary.stop();
        put("alice@example.org");
        forwarder = forwarder(4);
        forwarder.start(liveness);
        await().atMost(Duration.ofSeconds(30)).until(() -> forwarder.isDown("example.org"));

        primary.restart();
        queue.failNext(FaultyMailQueue.Call.FLUSH, 1, StackOverflowError::new); // the flush after the probe
        clock.advance(Duration.ofSeconds(30));
        forwarder.wake();
        await().atMost(Duration.ofSeconds(30)).until(() -> queue.faulted(FaultyMailQueue.Call.FLUSH) == 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> !lines(Level.ERROR).isEmpty());
        assertThat(lines(Level.ERROR)).singleElement().asString()
                .isEqualTo("backstop-probe: probe of example.org failed; going on");

        clock.advance(Duration.ofHours(2)); // past the recipient's backoff
        forwarder.wake();
        await().atMost(Duration.ofSeconds(30)).until(() -> real.stats().messages() == 0);
        assertThat(primary.transactions()).hasSize(1);
        assertThat(liveness.problem()).isEmpty();
    }

    @Test
    void etrnIsAnsweredBeforeTheQueueIsTouchedAndAFlushThatFailsLeavesTheMailForItsRetry() throws Exception {
        primary.stop();
        put("alice@example.org");
        forwarder = forwarder(4);
        forwarder.deliverDue(); // refused: deferred, the destination down
        primary.restart();
        queue.failNext(FaultyMailQueue.Call.FLUSH, 1, () -> new QueueException(QueueException.Kind.STORAGE_ERROR,
                "cannot flush example.org: the database has been closed"));

        assertThat(forwarder.etrn("example.org", InetAddress.getLoopbackAddress()))
                .isEqualTo(EtrnService.Result.STARTED);
        assertThat(queue.faulted(FaultyMailQueue.Call.FLUSH)).as("the session did not wait for the queue").isZero();
        assertThat(forwarder.isDown("example.org")).isFalse();
        forwarder.deliverDue(); // the scheduler's turn runs the flush, which fails: logged, nothing made due
        assertThat(queue.faulted(FaultyMailQueue.Call.FLUSH)).isEqualTo(1);
        assertThat(primary.transactions()).isEmpty();

        assertThat(forwarder.etrn("example.org", InetAddress.getLoopbackAddress()))
                .isEqualTo(EtrnService.Result.STARTED);
        forwarder.deliverDue();
        assertThat(primary.transactions()).hasSize(1);
        assertThat(real.stats().messages()).isZero();
    }

    private List<String> lines(Level level) {
        return log.list.stream().filter(e -> e.getLevel() == level).map(ILoggingEvent::getFormattedMessage).toList();
    }

    private static String subject(byte[] data) {
        String text = new String(data, StandardCharsets.UTF_8);
        int at = text.indexOf("Subject: ") + "Subject: ".length();
        return text.substring(at, text.indexOf("\r\n", at));
    }

    private QueueId put(String... recipients) throws Exception {
        QueueId id = QueueId.next(clock);
        byte[] body = ("Message-ID: <" + id + "@example.net>\r\nSubject: " + id + "\r\n\r\nbody\r\n")
                .getBytes(StandardCharsets.UTF_8);
        try (IncomingMessage m = real.receive(id)) {
            m.body().write(body);
            m.commit(new Envelope(id, clock.instant(), "192.0.2.7", "client.example.net", "sender@example.net", null,
                    DsnRet.FULL, body.length,
                    java.util.Arrays.stream(recipients).map(r -> new EnvelopeRecipient(r, null, null)).toList()));
        }
        return id;
    }
}
