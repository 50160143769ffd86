package org.backstopmx.smtpin;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.Map;
import org.backstopmx.core.EtrnService;
import org.backstopmx.core.Greylist;
import org.backstopmx.core.PrimaryAddresses;
import org.backstopmx.core.PrimaryCapabilities;
import org.backstopmx.core.RecipientVerifier;
import org.backstopmx.core.Standby;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.HostPort;
import org.backstopmx.core.config.ProxyProtocol;
import org.backstopmx.core.config.ScreenConfig;
import org.backstopmx.core.config.SpfPolicy;
import org.backstopmx.core.config.SmtpConfig;
import org.backstopmx.testkit.RecordingMailQueue;
import org.backstopmx.testkit.SmtpTranscript;

/** A real SMTP server on 127.0.0.1 with a free port, over a recording queue. */
final class ServerFixture implements AutoCloseable {
    static final String HOST = "mx2.backstop.test";

    final RecordingMailQueue queue = new RecordingMailQueue();
    /** Receives the server's meters. */
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final SmtpServer server;

    ServerFixture(SmtpConfig config, Map<String, DomainConfig> domains) throws InterruptedException {
        this(config, domains, (domain, client) -> EtrnService.Result.UNAVAILABLE);
    }

    ServerFixture(SmtpConfig config, Map<String, DomainConfig> domains, EtrnService etrn) throws InterruptedException {
        this(config, domains, etrn, PrimaryCapabilities.UNKNOWN);
    }

    ServerFixture(SmtpConfig config, Map<String, DomainConfig> domains, EtrnService etrn, PrimaryCapabilities primaries)
            throws InterruptedException {
        this(config, domains, etrn, primaries, Standby.NEVER);
    }

    ServerFixture(SmtpConfig config, Map<String, DomainConfig> domains, EtrnService etrn, PrimaryCapabilities primaries,
            Standby standby) throws InterruptedException {
        this(config, domains, etrn, primaries, standby, RecipientVerifier.NONE);
    }

    ServerFixture(SmtpConfig config, Map<String, DomainConfig> domains, EtrnService etrn, PrimaryCapabilities primaries,
            Standby standby, RecipientVerifier verifier) throws InterruptedException {
        // no screening, and no SPF check: nothing of these tests goes to the machine's resolver
        this(config, domains, etrn, primaries, standby, verifier,
                ScreenConfig.defaults().withSpf(SpfPolicy.OFF, false), DnsConfig.defaults());
    }

    ServerFixture(SmtpConfig config, Map<String, DomainConfig> domains, EtrnService etrn, PrimaryCapabilities primaries,
            ScreenConfig screen, DnsConfig dns) throws InterruptedException {
        this(config, domains, etrn, primaries, Standby.NEVER, RecipientVerifier.NONE, screen, dns);
    }

    ServerFixture(SmtpConfig config, Map<String, DomainConfig> domains, EtrnService etrn, PrimaryCapabilities primaries,
            Standby standby, RecipientVerifier verifier, ScreenConfig screen, DnsConfig dns) throws InterruptedException {
        this(config, domains, etrn, primaries, standby, verifier, screen, dns, Clock.systemUTC());
    }

    ServerFixture(SmtpConfig config, Map<String, DomainConfig> domains, EtrnService etrn, PrimaryCapabilities primaries,
            Standby standby, RecipientVerifier verifier, ScreenConfig screen, DnsConfig dns, Clock clock)
            throws InterruptedException {
        this(config, domains, etrn, primaries, standby, verifier, screen, dns, clock, null);
    }

    ServerFixture(SmtpConfig config, Map<String, DomainConfig> domains, EtrnService etrn, PrimaryCapabilities primaries,
            Standby standby, RecipientVerifier verifier, ScreenConfig screen, DnsConfig dns, Clock clock,
            Greylist greylist) throws InterruptedException {
        this(config, domains, etrn, primaries, standby, verifier, screen, dns, clock, greylist, PrimaryAddresses.NONE);
    }

    ServerFixture(SmtpConfig config, Map<String, DomainConfig> domains, EtrnService etrn, PrimaryCapabilities primaries,
            Standby standby, RecipientVerifier verifier, ScreenConfig screen, DnsConfig dns, Clock clock,
            Greylist greylist, PrimaryAddresses primaryAddresses) throws InterruptedException {
        server = new SmtpServer(HOST, config.withListen(new HostPort("127.0.0.1", 0)), domains, queue, etrn,
                clock, registry, primaries, standby, verifier, screen, dns, greylist, primaryAddresses);
        server.start();
    }

    /** The standard server greylisting into {@code greylist} by {@code clock}, DNS lists asked through {@code dns}. */
    static ServerFixture greylisting(ScreenConfig screen, DnsConfig dns, Clock clock, Greylist greylist)
            throws InterruptedException {
        return new ServerFixture(SmtpConfig.defaults(), Map.of("example.test", DomainConfig.acceptAll("example.test")),
                (domain, client) -> EtrnService.Result.UNAVAILABLE, PrimaryCapabilities.UNKNOWN, Standby.NEVER,
                RecipientVerifier.NONE, screen, dns, clock, greylist);
    }

    /** The standard server with client screening and rate limits counted by {@code clock}, no DNS lists. */
    static ServerFixture screening(ScreenConfig screen, Clock clock) throws InterruptedException {
        return new ServerFixture(SmtpConfig.defaults(), Map.of("example.test", DomainConfig.acceptAll("example.test")),
                (domain, client) -> EtrnService.Result.UNAVAILABLE, PrimaryCapabilities.UNKNOWN, Standby.NEVER,
                RecipientVerifier.NONE, screen, DnsConfig.defaults(), clock);
    }

    /** The standard server with client screening through the DNS server at {@code dns}. */
    static ServerFixture screening(ScreenConfig screen, DnsConfig dns) throws InterruptedException {
        return new ServerFixture(SmtpConfig.defaults(), Map.of("example.test", DomainConfig.acceptAll("example.test")),
                (domain, client) -> EtrnService.Result.UNAVAILABLE, PrimaryCapabilities.UNKNOWN, screen, dns);
    }

    static ServerFixture standard() throws InterruptedException {
        return new ServerFixture(SmtpConfig.defaults(), Map.of("example.test", DomainConfig.acceptAll("example.test")));
    }

    static SmtpConfig config(long maxSize, int maxRecipients, int maxConn, int maxPerIp, java.time.Duration idle,
            int maxCommand, int maxLine, int maxErrors, int maxReceived) {
        return config(maxSize, maxRecipients, SmtpConfig.defaults().recipientOvershootLimit(), maxConn, maxPerIp, idle,
                maxCommand, maxLine, maxErrors, maxReceived);
    }

    static SmtpConfig config(long maxSize, int maxRecipients, int overshoot, int maxConn, int maxPerIp,
            java.time.Duration idle, int maxCommand, int maxLine, int maxErrors, int maxReceived) {
        return new SmtpConfig(new HostPort("127.0.0.1", 0), maxSize, maxRecipients, overshoot, maxConn, maxPerIp, idle,
                maxCommand, maxLine, maxErrors, maxReceived, 4, null, null, ProxyProtocol.OFF, java.util.List.of());
    }

    InetSocketAddress address() {
        return server.localAddress();
    }

    /** A connected client that has read the greeting and said EHLO. */
    SmtpTranscript client() throws Exception {
        SmtpTranscript t = new SmtpTranscript(address());
        String greeting = t.reply();
        if (!greeting.startsWith("220 ")) {
            throw new AssertionError("greeting: " + greeting);
        }
        String ehlo = t.command("EHLO client.test");
        if (!ehlo.startsWith("250")) {
            throw new AssertionError("EHLO: " + ehlo);
        }
        return t;
    }

    @Override
    public void close() {
        server.close();
    }
}
