package org.backstopmx.forwarder.sts;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.backstopmx.core.DsnRet;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.Metrics;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueuedRecipient;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.RetryPolicy;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.DeliveryConfig;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.HostPort;
import org.backstopmx.core.config.TlsMode;
import org.backstopmx.forwarder.DnsjavaMxResolver;
import org.backstopmx.forwarder.RouteResolver;
import org.backstopmx.forwarder.delivery.Forwarder;
import org.backstopmx.forwarder.delivery.ForwarderMetrics;
import org.backstopmx.forwarder.delivery.ForwarderSettings;
import org.backstopmx.queue.H2MailQueue;
import org.backstopmx.testkit.ConnectTunnel;
import org.backstopmx.testkit.Dnsmasq;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.MutableClock;
import org.backstopmx.testkit.TestCa;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code domains.<name>.tls: mta-sts} through the forwarder as the configuration builds it: a domain whose policy
 * names its MX host is delivered over verified TLS, one whose policy does not stays deferred with
 * {@code sts-mx-mismatch} and its primary is never contacted; both counted at level {@code mta-sts}. The policy file
 * lands under the queue's directory.
 */
class MtaStsDeliveryTest {
    @TempDir
    Path dir;

    @Test
    void theNamedMxGetsTheMailOverVerifiedTlsAndAnUnnamedOneNothing() throws Exception {
        TestCa ca = TestCa.create(dir, "sts-ca");
        MutableClock clock = MutableClock.startingAt("2026-12-01T10:00:00Z");
        try (PolicyServer policies = new PolicyServer(ca.server("policy", List.of("mta-sts.named.test",
                        "mta-sts.unnamed.test")));
                ConnectTunnel tunnel = ConnectTunnel.to(policies.port());
                Dnsmasq dns = Dnsmasq.start("--txt-record=_mta-sts.named.test,v=STSv1; id=1",
                        "--txt-record=_mta-sts.unnamed.test,v=STSv1; id=1",
                        "--host-record=mx1.named.test,127.0.0.1", "--host-record=mx.unnamed.test,127.0.0.1");
                FakePrimaryMx named = FakePrimaryMx.start().offerStartTls(ca.server("named", List.of("mx1.named.test")));
                FakePrimaryMx unnamed = FakePrimaryMx.start()
                        .offerStartTls(ca.server("unnamed", List.of("mx.unnamed.test")))) {
            policies.answer("named.test", PolicyServer.Answer.policy(
                    "version: STSv1\nmode: enforce\nmx: *.named.test\nmax_age: 86400\n"));
            policies.answer("unnamed.test", PolicyServer.Answer.policy(
                    "version: STSv1\nmode: enforce\nmx: mx1.unnamed.test\nmax_age: 86400\n"));
            BackstopConfig config = BackstopConfig.defaults()
                    .withDomains(Map.of(
                            "named.test", new DomainConfig("named.test",
                                    new HostPort("mx1.named.test", named.port()), null, null, TlsMode.MTA_STS),
                            "unnamed.test", new DomainConfig("unnamed.test",
                                    new HostPort("mx.unnamed.test", unnamed.port()), null, null, TlsMode.MTA_STS)))
                    .withDns(new DnsConfig(dns.address(), Duration.ofSeconds(5)))
                    .withQueue(BackstopConfig.defaults().queue().withPath(dir.resolve("queue")));
            DeliveryConfig d = config.delivery();
            ForwarderSettings settings = ForwarderSettings.from(config.withDelivery(new DeliveryConfig(
                    d.concurrency(), d.connectionReuseTime(), d.connectTimeout(), d.commandTimeout(), d.dataTimeout(),
                    d.tls(), d.delayWarning(), d.bounceSizeLimit(), ca.pem())));
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            DnsjavaMxResolver resolver = new DnsjavaMxResolver(config.dns());
            Random random = new Random(1);
            MtaSts sts = new MtaSts(new StsTxtLookup(config.dns()), new StsPolicyFetcher(
                    settings.tlsTrust().verifying(), tunnel.selector(), Duration.ofSeconds(10)),
                    config.queue().path().resolve("mta-sts"), clock);
            try (H2MailQueue queue = H2MailQueue.open(config.queue(), 10_000_000, clock);
                    Forwarder forwarder = new Forwarder(settings, queue, new RouteResolver(config, resolver, random),
                            resolver, new RetryPolicy(config.retry(), Duration.ofDays(5), random),
                            new ForwarderMetrics(registry, config.servedDomains()), clock, config.domains(), 2, null,
                            sts)) {
                put(queue, clock, "bob@named.test");
                put(queue, clock, "carol@unnamed.test");
                forwarder.deliverDue();

                assertThat(named.transactions()).singleElement().satisfies(t -> assertThat(t.tls()).isTrue());
                assertThat(unnamed.connections()).isZero();
                List<QueuedRecipient> left = queue.list(10).stream().flatMap(m -> m.recipients().stream()).toList();
                assertThat(left).singleElement().satisfies(r -> {
                    assertThat(r.address()).isEqualTo("carol@unnamed.test");
                    assertThat(r.state()).isEqualTo(RecipientState.DEFERRED);
                    assertThat(r.lastReply()).contains("sts-mx-mismatch");
                });
                assertThat(tls(registry, "named.test", "verified")).isEqualTo(1);
                assertThat(tls(registry, "unnamed.test", "sts-mx-mismatch")).isGreaterThanOrEqualTo(1);
                assertThat(Files.readString(config.queue().path().resolve("mta-sts/named.test.policy")))
                        .startsWith("id: 1\nfetched: 2026-12-01T10:00:00Z\n\nversion: STSv1\n");
            }
        }
    }

    private static double tls(SimpleMeterRegistry registry, String destination, String result) {
        Counter c = registry.find(Metrics.DELIVERY_TLS).tags("destination", destination, "level", "mta-sts",
                "result", result).counter();
        return c == null ? 0 : c.count();
    }

    private static void put(H2MailQueue queue, MutableClock clock, String recipient) throws Exception {
        QueueId id = QueueId.next(clock);
        byte[] body = "Subject: sts\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII);
        try (IncomingMessage m = queue.receive(id)) {
            m.body().write(body);
            m.commit(new Envelope(id, clock.instant(), "192.0.2.7", "client.example.net", "sender@example.net", null,
                    DsnRet.FULL, body.length, List.of(EnvelopeRecipient.of(recipient))));
        }
    }
}
