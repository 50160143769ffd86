package org.backstopmx.forwarder.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.backstopmx.core.DsnRet;
import org.backstopmx.core.EtrnService;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.MailExtension;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.Lease;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueuedMessage;
import org.backstopmx.core.QueuedRecipient;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.RetryPolicy;
import org.backstopmx.core.SmtpStage;
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
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.backstopmx.core.Metrics;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The forwarder end to end on its side of the queue: a real H2 queue on disk, real SMTP over 127.0.0.1 to a scripted
 * primary and a scripted "sender's MX" for bounces, a clock moved by hand so backoff, probing and expiry need no
 * sleeping.
 *
 * <p>Over 400 lines on purpose: one forwarder over one real queue, a moved clock and a scripted primary, and its
 * scenarios side by side; the rarer ones have files of their own (AtExpiryTest, StandbyTest, BackscatterTest).
 */
class ForwarderTest {
    private static final Duration LIFETIME = Duration.ofDays(5);
    private static final RetryConfig RETRY = new RetryConfig(Duration.ofMinutes(5), Duration.ofMinutes(67));
    private static final Duration PROBE = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private final MutableClock clock = MutableClock.startingAt("2026-11-28T10:00:00Z");
    private FakePrimaryMx primary;
    private FakePrimaryMx senderMx;
    private H2MailQueue queue;
    private Forwarder forwarder;
    private ForwarderSettings settings;
    private SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @BeforeEach
    void start() throws Exception {
        primary = FakePrimaryMx.start();
        senderMx = FakePrimaryMx.start();
        queue = H2MailQueue.open(new QueueConfig(dir, LIFETIME, 0, 4.0, 64L * 1024 * 1024), 10_000_000, clock);
        settings = ForwarderSettings.defaults("backup.example.org").withTimeouts(SmtpTimeouts.all(Duration.ofSeconds(5)));
        forwarder = forwarder(settings);
    }

    private Forwarder forwarder(ForwarderSettings s) {
        registry = new SimpleMeterRegistry();
        BackstopConfig config = BackstopConfig.defaults()
                .withDomains(Map.of("example.org", new DomainConfig("example.org",
                        new HostPort("127.0.0.1", primary.port()), null, null)))
                .withRoutes(Map.of("example.net", new HostPort("127.0.0.1", senderMx.port())));
        // routes are configured: DNS is never asked (a server that does not exist would only time out)
        DnsjavaMxResolver dns = new DnsjavaMxResolver(new DnsConfig(new HostPort("127.0.0.1", 9), Duration.ofMillis(200)));
        RouteResolver routes = new RouteResolver(config, dns, new Random(1));
        return new Forwarder(s, queue, routes, dns, new RetryPolicy(RETRY, LIFETIME, new Random(7)),
                new ForwarderMetrics(registry, config.servedDomains()), clock);
    }

    @AfterEach
    void stop() throws Exception {
        forwarder.close();
        queue.close();
        primary.close();
        senderMx.close();
    }

    @Test
    void deliversTheStoredBytesAndEmptiesTheQueue() throws Exception {
        List<byte[]> bodies = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            bodies.add(put("alice@example.org", "bob@example.org").body);
        }

        assertThat(forwarder.deliverDue()).isEqualTo(6);

        assertThat(primary.transactions()).hasSize(3);
        assertThat(primary.transactions()).allSatisfy(t -> {
            assertThat(t.mailFrom()).startsWith("FROM:<sender@example.net>");
            assertThat(t.rcptTo()).hasSize(2);
        });
        assertThat(primary.transactions().stream().map(t -> new String(t.data(), StandardCharsets.ISO_8859_1)))
                .containsExactlyInAnyOrderElementsOf(bodies.stream()
                        .map(b -> new String(b, StandardCharsets.ISO_8859_1)).toList());
        assertThat(queue.list(10)).isEmpty();
        assertThat(queue.stats().messages()).isZero();
        assertThat(attempts("example.org", "delivered")).isEqualTo(6);
        assertThat(attempts("example.org", "deferred")).isZero();
        assertThat(registry.get(Metrics.DELIVERY_DURATION).timer().count()).isEqualTo(3);
        assertThat(registry.get(Metrics.QUEUE_RESIDENCE).timer().count()).isEqualTo(6);
    }

    private double attempts(String destination, String result) {
        return registry.get(Metrics.DELIVERY_ATTEMPTS).tag("destination", destination).tag("result", result)
                .counter().count();
    }

    private double up(String destination) {
        return registry.get(Metrics.DESTINATION_UP).tag("destination", destination).gauge().value();
    }

    @Test
    void manyMessagesShareOneConnectionPerWorker() throws Exception {
        forwarder.close();
        forwarder = forwarder(settings.withConcurrency(1));
        for (int i = 0; i < 5; i++) {
            put("alice@example.org");
        }
        forwarder.deliverDue();
        assertThat(primary.transactions()).hasSize(5);
        assertThat(primary.connections()).isEqualTo(1);
        assertThat(primary.verbs().stream().filter("MAIL"::equals)).hasSize(5);
    }

    @Test
    void aDownPrimaryIsNotTriedPerRecipientAndTheProbeFlushesItsQueueWhenItIsBack() throws Exception {
        primary.stop();
        for (int i = 0; i < 4; i++) {
            put("alice@example.org");
        }
        assertThat(up("example.org")).isEqualTo(1);
        forwarder.deliverDue();
        assertThat(forwarder.isDown("example.org")).isTrue();
        assertThat(up("example.org")).isZero();
        assertThat(recipients()).extracting(QueuedRecipient::state).containsOnly(RecipientState.DEFERRED);

        primary.restart();
        clock.advance(Duration.ofMinutes(10)); // every recipient's backoff is over
        forwarder.deliverDue();
        assertThat(primary.connections()).as("while down, recipients are deferred without a connection").isZero();
        assertThat(recipients()).extracting(QueuedRecipient::state).containsOnly(RecipientState.DEFERRED);
        assertThat(recipients()).extracting(QueuedRecipient::lastReply).allMatch(r -> r.contains("destination down"));

        clock.advance(PROBE);
        assertThat(forwarder.probeNow()).containsExactly("example.org");
        assertThat(forwarder.isDown("example.org")).isFalse();
        assertThat(up("example.org")).isEqualTo(1);
        forwarder.deliverDue();
        assertThat(primary.transactions()).hasSize(4);
        assertThat(attempts("example.org", "deferred")).as("4 refused, then 4 held back").isEqualTo(8);
        assertThat(attempts("example.org", "delivered")).isEqualTo(4);
        assertThat(queue.list(10)).isEmpty();
    }

    @Test
    void newMailForADownDestinationWaitsWithoutAnAttemptAndGoesOutWhenItIsBack() throws Exception {
        primary.stop();
        put("alice@example.org");
        forwarder.deliverDue();
        assertThat(forwarder.isDown("example.org")).isTrue();

        put("bob@example.org");
        assertThat(forwarder.deliverDue()).as("not due: held for the down destination").isZero();
        QueuedRecipient bob = recipients().stream().filter(r -> r.address().equals("bob@example.org")).findFirst()
                .orElseThrow();
        assertThat(bob.state()).isEqualTo(RecipientState.QUEUED);
        assertThat(bob.attempts()).isZero();
        assertThat(bob.nextAttemptAt()).isAfter(clock.instant());

        primary.restart();
        clock.advance(PROBE);
        assertThat(forwarder.probeNow()).containsExactly("example.org");
        forwarder.deliverDue();
        assertThat(primary.transactions()).hasSize(2);
        assertThat(queue.list(10)).isEmpty();
    }

    @Test
    void aProbeThatFailsKeepsTheDestinationDownUntilTheNextInterval() throws Exception {
        primary.stop();
        put("alice@example.org");
        forwarder.deliverDue();
        assertThat(forwarder.probeNow()).as("not due before the interval").isEmpty();
        clock.advance(PROBE);
        assertThat(forwarder.probeNow()).isEmpty();
        assertThat(forwarder.isDown("example.org")).isTrue();
        clock.advance(PROBE.minusSeconds(1));
        primary.restart();
        assertThat(forwarder.probeNow()).isEmpty();
        assertThat(primary.connections()).isZero();
        clock.advance(Duration.ofSeconds(1));
        assertThat(forwarder.probeNow()).containsExactly("example.org");
    }

    @Test
    void aPartialRefusalBouncesOnlyTheRefusedRecipient() throws Exception {
        primary.recipientReply("bob@example.org", "550 5.1.1 <bob@example.org>: Recipient address rejected");
        Stored original = put("alice@example.org", "bob@example.org", "carol@example.org");

        forwarder.deliverDue();

        assertThat(primary.transactions()).hasSize(1);
        assertThat(primary.transactions().get(0).rcptTo()).hasSize(2);
        assertThat(senderMx.transactions()).as("the DSN went to the sender's route").hasSize(1);
        FakePrimaryMx.Transaction dsn = senderMx.transactions().get(0);
        assertThat(dsn.mailFrom()).startsWith("FROM:<> ");
        assertThat(dsn.rcptTo()).singleElement().asString().startsWith("TO:<sender@example.net>");
        String text = new String(dsn.data(), StandardCharsets.UTF_8);
        assertThat(text).contains("multipart/report", "report-type=delivery-status",
                "Final-Recipient: rfc822; bob@example.org", "Action: failed", "Status: 5.1.1",
                "Diagnostic-Code: smtp; 550 5.1.1", original.id.value());
        assertThat(text).doesNotContain("Final-Recipient: rfc822; alice@example.org");
        assertThat(registry.get(Metrics.BOUNCES).tag("reason", "failed").counter().count()).isEqualTo(1);
        assertThat(attempts("example.org", "failed")).isEqualTo(1);
        assertThat(attempts(Metrics.OTHER, "delivered")).as("the bounce, to the sender's domain").isEqualTo(1);
        assertThat(queue.list(10)).isEmpty();
    }

    @Test
    void aMessageNeedingSmtputf8FailsAtAPrimaryWithoutItWhichIsThenKnownToLackIt() throws Exception {
        primary.capabilities("PIPELINING", "8BITMIME", "SIZE 1000000", "ENHANCEDSTATUSCODES");
        senderMx.capabilities("PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES");
        assertThat(forwarder.primaryCapabilities().knownToLack("example.org", MailExtension.SMTPUTF8)).isFalse();
        putFrom("j\u00f6rg@example.net", null, Set.of(MailExtension.SMTPUTF8, MailExtension.EIGHTBITMIME),
                "\u7528\u6237@example.org");

        forwarder.deliverDue();

        assertThat(primary.transactions()).as("nothing is sent to a primary without SMTPUTF8").isEmpty();
        assertThat(forwarder.primaryCapabilities().knownToLack("example.org", MailExtension.SMTPUTF8)).isTrue();
        assertThat(forwarder.primaryCapabilities().knownToLack("example.org", MailExtension.EIGHTBITMIME)).isFalse();
        assertThat(forwarder.primaryCapabilities().sizeLimit("example.org")).isEqualTo(1_000_000);
        assertThat(forwarder.primaryCapabilities().knownToLack("example.net", MailExtension.SMTPUTF8))
                .as("only served domains are kept").isFalse();
        assertThat(senderMx.transactions()).hasSize(1);
        FakePrimaryMx.Transaction dsn = senderMx.transactions().get(0);
        assertThat(dsn.mailFrom()).startsWith("FROM:<> ").contains(" SMTPUTF8");
        assertThat(dsn.rcptTo()).singleElement().asString().startsWith("TO:<j\u00f6rg@example.net>");
        assertThat(new String(dsn.data(), StandardCharsets.UTF_8)).contains("Status: 5.6.7", "Diagnostic-Code: smtp; 550 5.6.7");
        assertThat(queue.list(10)).isEmpty();
    }

    @Test
    void aMessageFromTheNullSenderNeverBounces() throws Exception {
        primary.recipientReply("bob@example.org", "550 5.1.1 no such user");
        putFrom("", null, "bob@example.org");
        forwarder.deliverDue();
        assertThat(senderMx.transactions()).isEmpty();
        assertThat(queue.list(10)).isEmpty();
    }

    @Test
    void notifyNeverIsHonoured() throws Exception {
        primary.recipientReply("bob@example.org", "550 5.1.1 no such user");
        putFrom("sender@example.net", "NEVER", "bob@example.org");
        forwarder.deliverDue();
        assertThat(senderMx.transactions()).isEmpty();
        assertThat(queue.list(10)).isEmpty();
    }

    @Test
    void pastTheLifetimeTheRecipientExpiresAndTheSenderIsTold() throws Exception {
        primary.stop();
        put("alice@example.org");
        forwarder.deliverDue();
        clock.advance(LIFETIME);
        forwarder.deliverDue();

        assertThat(senderMx.transactions()).hasSize(1);
        String text = new String(senderMx.transactions().get(0).data(), StandardCharsets.UTF_8);
        assertThat(text).contains("Final-Recipient: rfc822; alice@example.org", "Action: failed", "Status: 4.4.");
        assertThat(queue.list(10)).isEmpty();
    }

    @Test
    void aDelayWarningIsSentOnceWhenConfigured() throws Exception {
        forwarder.close();
        forwarder = forwarder(settings.withDelayWarning(Duration.ofHours(4)));
        primary.recipientReply("alice@example.org", "451 4.2.1 mailbox busy");
        put("alice@example.org");
        forwarder.deliverDue();
        assertThat(senderMx.transactions()).isEmpty();

        for (int i = 0; i < 8; i++) {
            clock.advance(Duration.ofMinutes(67));
            forwarder.deliverDue();
        }
        assertThat(senderMx.transactions()).as("one delay notice, not one per retry").hasSize(1);
        String text = new String(senderMx.transactions().get(0).data(), StandardCharsets.UTF_8);
        assertThat(text).contains("Action: delayed", "Will-Retry-Until:", "Status: 4.2.1");
        assertThat(recipients()).extracting(QueuedRecipient::state).containsOnly(RecipientState.DEFERRED);
    }

    @Test
    void droppedMidDataIsDeferredAndDeliveredOnceLater() throws Exception {
        primary.dropDuringData(true);
        put("alice@example.org");
        forwarder.deliverDue();
        assertThat(recipients()).extracting(QueuedRecipient::state).containsOnly(RecipientState.DEFERRED);
        assertThat(forwarder.isDown("example.org")).as("it answered: not down").isFalse();

        primary.dropDuringData(false);
        clock.advance(Duration.ofMinutes(10));
        forwarder.deliverDue();
        assertThat(primary.transactions()).hasSize(1);
        assertThat(queue.list(10)).isEmpty();
    }

    @Test
    void etrnFromThePrimaryFlushesAndOthersAreRefused() throws Exception {
        primary.stop();
        put("alice@example.org");
        forwarder.deliverDue();
        primary.restart();

        assertThat(forwarder.etrn("example.org", InetAddress.getByName("192.0.2.1")))
                .isEqualTo(EtrnService.Result.NOT_ALLOWED);
        assertThat(forwarder.etrn("example.com", InetAddress.getLoopbackAddress()))
                .isEqualTo(EtrnService.Result.UNKNOWN_DOMAIN);
        assertThat(forwarder.etrn("example.org", InetAddress.getLoopbackAddress()))
                .isEqualTo(EtrnService.Result.STARTED);
        assertThat(forwarder.isDown("example.org")).isFalse();
        forwarder.deliverDue(); // no clock move: the flush made it due
        assertThat(primary.transactions()).hasSize(1);
        assertThat(forwarder.etrn("example.org", InetAddress.getLoopbackAddress()))
                .as("250 at once, as Postfix, mail waiting or not: the reply does not wait for the queue")
                .isEqualTo(EtrnService.Result.STARTED);
        forwarder.deliverDue();
        assertThat(primary.transactions()).hasSize(1);
    }

    @Test
    void etrnIsAlsoTakenFromTheDomainsEtrnFromList() throws Exception {
        forwarder.reload(BackstopConfig.defaults()
                .withDomains(Map.of("example.org", new DomainConfig("example.org",
                        new HostPort("127.0.0.1", primary.port()), null, null, null, List.of(
                                org.backstopmx.core.config.AddressRange.parse("198.51.100.0/24"),
                                org.backstopmx.core.config.AddressRange.parse("2001:db8::/32")))))
                .withRoutes(Map.of("example.net", new HostPort("127.0.0.1", senderMx.port()))));
        put("alice@example.org");

        assertThat(forwarder.etrn("example.org", InetAddress.getByName("198.51.101.7")))
                .isEqualTo(EtrnService.Result.NOT_ALLOWED);
        assertThat(forwarder.etrn("example.org", InetAddress.getByName("2001:db8::25")))
                .isEqualTo(EtrnService.Result.STARTED);
        assertThat(forwarder.etrn("example.org", InetAddress.getByName("198.51.100.7")))
                .isEqualTo(EtrnService.Result.STARTED);
        assertThat(forwarder.etrn("example.org", InetAddress.getLoopbackAddress())) // its route, as before
                .isEqualTo(EtrnService.Result.STARTED);
    }

    @Test
    void aLeaseHeldByACrashedRunIsDeliveredAfterTheRestart() throws Exception {
        put("alice@example.org");
        List<Lease> crashed = queue.leaseDue(10, Duration.ofHours(1)); // claimed, then the process died
        assertThat(crashed).hasSize(1);
        assertThat(forwarder.deliverDue()).isZero();
        forwarder.close();
        queue.close();

        queue = H2MailQueue.open(new QueueConfig(dir, LIFETIME, 0, 4.0, 64L * 1024 * 1024), 10_000_000, clock);
        forwarder = forwarder(settings);
        assertThat(forwarder.deliverDue()).isEqualTo(1);
        assertThat(primary.transactions()).hasSize(1);
        assertThat(queue.list(10)).isEmpty();
    }

    @Test
    void aStallingPrimaryTimesOutAndIsRetried() throws Exception {
        forwarder.close();
        forwarder = forwarder(settings.withTimeouts(SmtpTimeouts.all(Duration.ofMillis(300))));
        primary.stallAt(SmtpStage.DOT);
        put("alice@example.org");
        forwarder.deliverDue();
        assertThat(recipients()).extracting(QueuedRecipient::state).containsOnly(RecipientState.DEFERRED);
        assertThat(recipients().get(0).lastReply()).contains("timed out");
    }

    // ---------------------------------------------------------------------------------------------- helpers

    private record Stored(QueueId id, byte[] body) {
    }

    @Test
    void aHeldMessageWaitsThroughFlushesAndGoesOutWhenReleased() throws Exception {
        Stored held = put("alice@example.org");
        Stored other = put("bob@example.org");
        assertThat(forwarder.hold(held.id)).contains(1);

        assertThat(forwarder.deliverDue()).isEqualTo(1);
        assertThat(forwarder.flushAll()).isZero(); // held mail is not flushed
        forwarder.deliverDue();
        assertThat(primary.transactions()).hasSize(1);
        assertThat(queue.find(held.id)).isPresent();
        assertThat(queue.find(other.id)).isEmpty();

        assertThat(forwarder.release(held.id)).contains(1);
        assertThat(forwarder.deliverDue()).isEqualTo(1);
        assertThat(primary.transactions()).hasSize(2);
        assertThat(queue.list(10)).isEmpty();
        assertThat(forwarder.hold(held.id)).isEmpty();
        assertThat(forwarder.release(held.id)).isEmpty();
    }

    @Test
    void bounceReturnsEveryPendingRecipientToTheSenderWithOneDsn() throws Exception {
        primary.stop();
        Stored s = put("alice@example.org", "bob@example.org");
        forwarder.deliverDue(); // deferred: the primary is down
        forwarder.hold(s.id);
        assertThat(recipients()).extracting(QueuedRecipient::state).containsOnly(RecipientState.HELD);

        assertThat(forwarder.bounce(s.id)).contains(2);

        assertThat(queue.find(s.id)).isEmpty();
        forwarder.deliverDue(); // the DSN goes to the sender's MX
        assertThat(senderMx.transactions()).singleElement().satisfies(t -> {
            assertThat(t.mailFrom()).startsWith("FROM:<>");
            assertThat(t.rcptTo()).singleElement().asString().startsWith("TO:<sender@example.net>");
            assertThat(new String(t.data(), StandardCharsets.UTF_8)).contains("Action: failed", "Status: 5.0.0",
                    "Final-Recipient: rfc822; alice@example.org", "Final-Recipient: rfc822; bob@example.org",
                    "returned to the sender by the administrator");
        });
        assertThat(forwarder.bounce(s.id)).isEmpty();
    }

    @Test
    void bounceOfMailFromTheNullSenderOrWithNotifyNeverSendsNothing() throws Exception {
        Stored fromNull = putFrom("", null, "alice@example.org");
        Stored never = putFrom("sender@example.net", "NEVER", "bob@example.org");
        assertThat(forwarder.bounce(fromNull.id)).contains(1);
        assertThat(forwarder.bounce(never.id)).contains(1);
        assertThat(queue.list(10)).isEmpty();
        forwarder.deliverDue();
        assertThat(senderMx.transactions()).isEmpty();
        assertThat(primary.transactions()).isEmpty();
    }

    @Test
    void flushAllMakesEveryDomainDueAndMarksItsDestinationUp() throws Exception {
        primary.stop();
        put("alice@example.org");
        forwarder.deliverDue();
        assertThat(forwarder.isDown("example.org")).isTrue();
        primary.restart();

        assertThat(forwarder.flushAll()).isEqualTo(1);
        assertThat(forwarder.isDown("example.org")).isFalse();
        forwarder.deliverDue();
        assertThat(primary.transactions()).hasSize(1);
        assertThat(forwarder.flushAll()).isZero();
    }

    @Test
    void aSlowDestinationWithABacklogDoesNotHoldUpTheOthers() throws Exception {
        forwarder.close();
        ForwarderSettings s = settings.withConcurrency(1).withTimeouts(SmtpTimeouts.all(Duration.ofMinutes(1)));
        // at most 8 claims in flight: without a bound per destination, example.org's backlog would take them all
        forwarder = forwarder(new ForwarderSettings(s.hostname(), s.concurrency(), s.connectionReuseTime(),
                s.timeouts(), s.tls(), s.domainTls(), s.delayWarning(), s.bounceSizeLimit(), s.probeInterval(),
                s.leaseTime(), 8, 8));
        primary.stallAt(SmtpStage.DOT); // example.org's primary takes each message and never answers
        for (int i = 0; i < 12; i++) {
            put("alice@example.org");
            clock.advance(Duration.ofMillis(1));
        }
        put("bob@example.net");

        forwarder.start();

        await().atMost(Duration.ofSeconds(20)).until(() -> senderMx.transactions().size() == 1);
        assertThat(primary.transactions()).isEmpty();
        // example.org holds a bounded number of claims (its lane's waiting jobs and the one being tried); the rest
        // of its backlog is in the queue, due and not leased (a leased recipient shows its lease's end as next attempt)
        long leased = recipients().stream().filter(r -> r.nextAttemptAt().isAfter(clock.instant())).count();
        assertThat(leased).isBetween(1L, (long) Lanes.LANE_JOBS_PER_CONNECTION + 1);
        assertThat(recipients()).hasSize(12);
        primary.stop(); // ends the stalled session at once
    }

    @Test
    void atStartADestinationWithMailWaitingIsAskedAndGetsItAtOnceWhenItAnswers() throws Exception {
        primary.stop();
        put("alice@example.org");
        forwarder.deliverDue(); // refused: deferred for minutes
        assertThat(recipients()).extracting(QueuedRecipient::state).containsExactly(RecipientState.DEFERRED);
        forwarder.close();

        // a restart finds the primary back; the clock does not move, so only the probe at start can send it now
        primary.restart();
        forwarder = forwarder(settings);
        forwarder.start();
        await().atMost(Duration.ofSeconds(20)).until(() -> primary.transactions().size() == 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> queue.stats().messages() == 0);
    }

    @Test
    void atStartADestinationWithMailWaitingThatDoesNotAnswerIsMarkedDown() throws Exception {
        primary.stop();
        put("alice@example.org");
        forwarder.deliverDue();
        forwarder.close();

        forwarder = forwarder(settings);
        assertThat(forwarder.isDown("example.org")).isFalse(); // a new forwarder knows nothing yet
        forwarder.start();
        await().atMost(Duration.ofSeconds(20)).until(() -> forwarder.isDown("example.org"));
        assertThat(primary.transactions()).isEmpty();
    }

    private Stored put(String... recipients) throws Exception {
        return putFrom("sender@example.net", null, recipients);
    }

    private Stored putFrom(String sender, String notify, String... recipients) throws Exception {
        return putFrom(sender, notify, Set.of(), recipients);
    }

    private Stored putFrom(String sender, String notify, Set<MailExtension> needs, String... recipients)
            throws Exception {
        QueueId id = QueueId.next(clock);
        byte[] body = ("Received: from client by backup.example.org; " + id + "\r\n"
                + "Message-ID: <" + id + "@example.net>\r\nSubject: test " + id + "\r\n\r\n"
                + "caf\u00e9 line\r\n.leading dot\r\n" + "x".repeat(998) + "\r\n").getBytes(StandardCharsets.UTF_8);
        try (IncomingMessage m = queue.receive(id)) {
            m.body().write(body);
            List<EnvelopeRecipient> rcpts = Arrays.stream(recipients)
                    .map(r -> new EnvelopeRecipient(r, notify, null)).toList();
            m.commit(new Envelope(id, clock.instant(), "192.0.2.7", "client.example.net", sender, null, DsnRet.FULL,
                    body.length, rcpts, needs));
        }
        return new Stored(id, body);
    }

    private List<QueuedRecipient> recipients() {
        List<QueuedRecipient> out = new ArrayList<>();
        for (QueuedMessage m : queue.list(100)) {
            out.addAll(m.recipients());
        }
        return out;
    }
}
