package org.backstopmx.forwarder.delivery;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.backstopmx.core.DsnRet;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.HostPort;
import org.backstopmx.core.config.QueueConfig;
import org.backstopmx.forwarder.DnsjavaMxResolver;
import org.backstopmx.queue.H2MailQueue;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.MutableClock;

/**
 * A forwarder built from a configuration the way the appliance builds it ({@link Forwarder#of}), over a real H2 queue
 * on disk, with {@code example.org} routed to a scripted primary on 127.0.0.1, {@code example.com} served with the
 * defaults (never delivered to here), and bounces for {@code example.net}
 * to a scripted sender's MX. Not started: tests move {@link #clock} and call {@code deliverDue} and {@code probeNow}.
 */
final class ConfiguredForwarder implements AutoCloseable {
    static final Duration LIFETIME = Duration.ofDays(5);

    final MutableClock clock = MutableClock.startingAt("2026-11-28T10:00:00Z");
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final FakePrimaryMx primary;
    final FakePrimaryMx senderMx;
    final H2MailQueue queue;
    final Forwarder forwarder;

    /** @param domain the settings of {@code example.org} (its route is set here); {@code queue} without its path */
    ConfiguredForwarder(Path dir, DomainConfig domain, QueueConfig queueConfig, BackstopConfig base) throws Exception {
        primary = FakePrimaryMx.start();
        senderMx = FakePrimaryMx.start();
        DomainConfig routed = new DomainConfig(domain.name(), new HostPort("127.0.0.1", primary.port()),
                domain.recipients(), domain.recipientsFile(), domain.tls(), domain.etrnFrom(), domain.accept());
        BackstopConfig config = base.withDomains(Map.of(routed.name(), routed, "example.com",
                        DomainConfig.acceptAll("example.com")))
                .withRoutes(Map.of("example.net", new HostPort("127.0.0.1", senderMx.port())))
                .withQueue(queueConfig.withPath(dir));
        queue = H2MailQueue.open(config.queue(), 10_000_000, clock);
        // routes are configured: DNS is never asked for them (a server that does not exist would only time out)
        DnsjavaMxResolver dns = new DnsjavaMxResolver(new DnsConfig(new HostPort("127.0.0.1", 9), Duration.ofMillis(200)));
        forwarder = Forwarder.of(config, queue, dns, registry, clock);
    }

    /** Queues a message from {@code sender@example.net} to {@code recipients}. */
    QueueId put(String... recipients) throws Exception {
        QueueId id = QueueId.next(clock);
        byte[] body = ("Message-ID: <" + id + "@example.net>\r\nSubject: test\r\n\r\nbody\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        try (IncomingMessage m = queue.receive(id)) {
            m.body().write(body);
            List<EnvelopeRecipient> rcpts = java.util.Arrays.stream(recipients).map(EnvelopeRecipient::of).toList();
            m.commit(new Envelope(id, clock.instant(), "192.0.2.7", "client.example.net", "sender@example.net", null,
                    DsnRet.FULL, body.length, rcpts));
        }
        return id;
    }

    @Override
    public void close() throws Exception {
        forwarder.close();
        queue.close();
        primary.close();
        senderMx.close();
    }
}
