package org.backstopmx.forwarder.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.backstopmx.core.DsnRet;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.Metrics;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.RetryPolicy;
import org.backstopmx.core.SpfResult;
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
import org.backstopmx.testkit.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * No DSN to a sender who may be forged: the SPF result kept in the envelope decides, for refused recipients and
 * expired ones alike. A real H2 queue, real SMTP to a scripted primary and a scripted sender's MX, a moved clock.
 */
class BackscatterTest {
    private static final Duration LIFETIME = Duration.ofDays(5);

    @TempDir
    Path dir;

    private final MutableClock clock = MutableClock.startingAt("2026-11-28T10:00:00Z");
    private FakePrimaryMx primary;
    private FakePrimaryMx senderMx;
    private H2MailQueue queue;
    private Forwarder forwarder;
    private SimpleMeterRegistry registry;

    @BeforeEach
    void start() throws Exception {
        primary = FakePrimaryMx.start();
        senderMx = FakePrimaryMx.start();
        queue = H2MailQueue.open(new QueueConfig(dir, LIFETIME, 0, 4.0, 64L * 1024 * 1024), 10_000_000, clock);
    }

    private void forwarder(boolean bounceOnlySpfPass) {
        registry = new SimpleMeterRegistry();
        BackstopConfig config = BackstopConfig.defaults()
                .withDomains(Map.of("example.org", new DomainConfig("example.org",
                        new HostPort("127.0.0.1", primary.port()), null, null)))
                .withRoutes(Map.of("example.net", new HostPort("127.0.0.1", senderMx.port())));
        // routes are configured: DNS is never asked
        DnsjavaMxResolver dns = new DnsjavaMxResolver(new DnsConfig(new HostPort("127.0.0.1", 9), Duration.ofMillis(200)));
        ForwarderSettings settings = ForwarderSettings.defaults("backup.example.org")
                .withTimeouts(SmtpTimeouts.all(Duration.ofSeconds(5))).withBounceOnlySpfPass(bounceOnlySpfPass);
        forwarder = new Forwarder(settings, queue, new RouteResolver(config, dns, new Random(1)), dns,
                new RetryPolicy(new RetryConfig(Duration.ofMinutes(5), Duration.ofMinutes(67)), LIFETIME, new Random(7)),
                new ForwarderMetrics(registry, config.servedDomains()), clock);
    }

    @AfterEach
    void stop() throws Exception {
        if (forwarder != null) {
            forwarder.close();
        }
        queue.close();
        primary.close();
        senderMx.close();
    }

    private QueueId put(SpfResult spf) throws Exception {
        QueueId id = QueueId.next(clock);
        byte[] body = ("Subject: test " + id + "\r\n\r\nHello\r\n").getBytes(StandardCharsets.US_ASCII);
        try (IncomingMessage m = queue.receive(id)) {
            m.body().write(body);
            m.commit(new Envelope(id, clock.instant(), "192.0.2.7", "client.example.net", "sender@example.net", null,
                    DsnRet.HDRS, body.length, List.of(EnvelopeRecipient.of("bob@example.org")), java.util.Set.of(), spf));
        }
        return id;
    }

    private double suppressed(String reason) {
        return registry.get(Metrics.BOUNCES_SUPPRESSED).tag("reason", reason).counter().count();
    }

    private double bounced() {
        return registry.get(Metrics.BOUNCES).tag("reason", "failed").counter().count()
                + registry.get(Metrics.BOUNCES).tag("reason", "expired").counter().count();
    }

    static Stream<Arguments> rows() {
        return Stream.of(
                Arguments.of(SpfResult.PASS, false, null),
                Arguments.of(SpfResult.FAIL, false, "spf_fail"),
                Arguments.of(SpfResult.SOFTFAIL, false, null),
                Arguments.of(SpfResult.TEMPERROR, false, null),
                Arguments.of(null, false, null),
                Arguments.of(SpfResult.PASS, true, null),
                Arguments.of(SpfResult.FAIL, true, "spf_fail"),
                Arguments.of(SpfResult.SOFTFAIL, true, "spf_not_pass"),
                Arguments.of(SpfResult.NONE, true, "spf_not_pass"),
                Arguments.of(null, true, null));
    }

    @ParameterizedTest(name = "spf {0}, bounce-only-spf-pass {1}: suppressed for {2}")
    @MethodSource("rows")
    void aRefusedRecipientIsBouncedUnlessItsSenderMayBeForged(SpfResult spf, boolean onlyPass, String reason)
            throws Exception {
        forwarder(onlyPass);
        primary.recipientReply("bob@example.org", "550 5.1.1 <bob@example.org>: Recipient address rejected");
        put(spf);

        forwarder.deliverDue(); // the refusal, and the DSN if one is queued
        forwarder.deliverDue(); // the DSN's delivery

        assertThat(queue.list(10)).as("the failure is recorded either way").isEmpty();
        if (reason == null) {
            assertThat(senderMx.transactions()).hasSize(1);
            assertThat(bounced()).isEqualTo(1);
        } else {
            assertThat(senderMx.transactions()).isEmpty();
            assertThat(bounced()).isZero();
            assertThat(suppressed(reason)).isEqualTo(1);
        }
        assertThat(suppressed("spf_fail") + suppressed("spf_not_pass")).isEqualTo(reason == null ? 0 : 1);
    }

    @Test
    void anExpiredMessageOfAForgedSenderIsDroppedWithoutADsn() throws Exception {
        forwarder(false);
        primary.recipientReply("bob@example.org", "450 4.2.0 try later");
        put(SpfResult.FAIL);
        forwarder.deliverDue();
        clock.advance(LIFETIME.plusHours(1));
        forwarder.deliverDue();
        forwarder.deliverDue();

        assertThat(queue.list(10)).isEmpty();
        assertThat(senderMx.transactions()).isEmpty();
        assertThat(suppressed("spf_fail")).isEqualTo(1);
        assertThat(registry.get(Metrics.BOUNCES).tag("reason", "expired").counter().count()).isZero();
    }
}
