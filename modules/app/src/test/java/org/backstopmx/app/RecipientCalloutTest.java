package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.backstopmx.core.RecipientCache;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.HostPort;
import org.backstopmx.core.config.RecipientCheck;
import org.backstopmx.core.config.SmtpConfig;
import org.backstopmx.queue.H2MailQueue;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.MutableClock;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code recipient-check: callout} through the whole appliance: a real primary on a socket that knows some users, the
 * answers kept in the real H2 queue on disk, RCPTs over real SMTP sessions. The primary here is the fake one
 * scripted to refuse every local part but the users it knows, with the wording of Postfix's
 * {@code local_recipient_maps}.
 */
class RecipientCalloutTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Set<String> USERS = Set.of("alice", "bob");
    static final String UNKNOWN_TEXT = "Recipient address rejected: User unknown in local recipient table";

    @TempDir
    Path dir;

    private FakePrimaryMx primary;
    private Appliance appliance;

    @AfterEach
    void stop() throws IOException {
        if (appliance != null) {
            appliance.close();
        }
        if (primary != null) {
            primary.close();
        }
    }

    private void primaryKnowingUsers() throws IOException {
        primary = primaryKnowing(USERS);
    }

    /** A primary that knows {@code users}: 250 for them, 550 5.1.1 with Postfix's text for anyone else. */
    static FakePrimaryMx primaryKnowing(Set<String> users) throws IOException {
        return FakePrimaryMx.start().answer((verb, arg) -> {
            if (!verb.equals("RCPT")) {
                return null;
            }
            String address = arg.substring(arg.indexOf('<') + 1, arg.indexOf('>'));
            String local = address.substring(0, address.indexOf('@'));
            return users.contains(local) ? null : "550 5.1.1 <" + address + ">: " + UNKNOWN_TEXT;
        });
    }

    private BackstopConfig config(DomainConfig domain) {
        return InProcessConfig.serving(dir, primary.port(), Duration.ofHours(1))
                .withDomains(Map.of("example.test", domain));
    }

    private DomainConfig calloutDomain(Set<String> listed) {
        return new DomainConfig("example.test", new HostPort("127.0.0.1", primary.port()), listed, null, null,
                List.of(), RecipientCheck.CALLOUT);
    }

    private void start(BackstopConfig config) throws Exception {
        appliance = Appliance.start(config, Clock.systemUTC());
    }

    @Test
    void aKnownUserIsAcceptedAndAnUnknownOneGetsThePrimarysText() throws Exception {
        primaryKnowingUsers();
        start(config(calloutDomain(null)));

        assertThat(rcpt("alice@example.test")).startsWith("250");
        assertThat(rcpt("nobody@example.test"))
                .isEqualTo("550 5.1.1 <nobody@example.test>: " + UNKNOWN_TEXT);
        assertThat(primary.verbs()).doesNotContain("DATA").contains("MAIL", "RCPT", "RSET");
        assertThat(primary.commands()).contains("MAIL FROM:<>");
        assertThat(primary.transactions()).isEmpty();
    }

    @Test
    void whileThePrimaryIsStoppedTheCacheDecidesAndTheNeverSeenAreDeferred() throws Exception {
        primaryKnowingUsers();
        start(config(calloutDomain(null)));
        assertThat(rcpt("alice@example.test")).startsWith("250");
        assertThat(rcpt("nobody@example.test")).startsWith("550 5.1.1");

        primary.stop();
        assertThat(rcpt("alice@example.test")).startsWith("250");
        assertThat(rcpt("nobody@example.test")).isEqualTo("550 5.1.1 <nobody@example.test>: " + UNKNOWN_TEXT);
        assertThat(rcpt("carol@example.test")).startsWith("450 4.1.1");
        assertThat(metrics()).contains(
                "backstop_callout_cache_hits_total{domain=\"example.test\",result=\"valid\"} 1.0",
                "backstop_callout_cache_hits_total{domain=\"example.test\",result=\"invalid\"} 1.0",
                "backstop_callouts_total{domain=\"example.test\",result=\"unreachable\"} 1.0",
                "backstop_recipient_cache_entries{domain=\"example.test\"} 2.0");
    }

    @Test
    void answersAreBelievedForTheirTtlsOnly() throws Exception {
        primaryKnowingUsers();
        MutableClock clock = new MutableClock(Instant.now());
        appliance = Appliance.start(config(calloutDomain(null)), clock);
        assertThat(rcpt("alice@example.test")).startsWith("250");
        assertThat(rcpt("nobody@example.test")).startsWith("550 5.1.1");
        primary.stop();

        clock.advance(Duration.ofMinutes(61)); // callout.negative-ttl: 1h
        assertThat(rcpt("nobody@example.test")).startsWith("450 4.1.1");
        assertThat(rcpt("alice@example.test")).startsWith("250");
        clock.advance(Duration.ofDays(30)); // callout.positive-ttl: 30d
        assertThat(rcpt("alice@example.test")).startsWith("450 4.1.1");
    }

    @Test
    void unknownWhenDownAcceptTakesTheNeverSeen() throws Exception {
        primaryKnowingUsers();
        BackstopConfig config = config(calloutDomain(null));
        start(config.withCallout(new org.backstopmx.core.config.CalloutConfig(Duration.ofSeconds(2), 5,
                Duration.ofDays(30), Duration.ofHours(1),
                org.backstopmx.core.config.CalloutConfig.UnknownWhenDown.ACCEPT)));
        primary.stop();
        assertThat(rcpt("carol@example.test")).startsWith("250");
    }

    @Test
    void theCacheSurvivesARestartOfBackstop() throws Exception {
        primaryKnowingUsers();
        BackstopConfig config = config(calloutDomain(null));
        start(config);
        assertThat(rcpt("alice@example.test")).startsWith("250");
        assertThat(rcpt("nobody@example.test")).startsWith("550 5.1.1");
        appliance.close();
        appliance = null;

        primary.stop();
        start(config);
        assertThat(rcpt("alice@example.test")).startsWith("250");
        assertThat(rcpt("nobody@example.test")).isEqualTo("550 5.1.1 <nobody@example.test>: " + UNKNOWN_TEXT);
        assertThat(rcpt("carol@example.test")).startsWith("450 4.1.1");
    }

    @Test
    void deliveryResultsFeedTheCache() throws Exception {
        primaryKnowingUsers();
        // listed local parts are accepted without a callout: only the deliveries can teach the cache about them
        start(config(calloutDomain(Set.of("alice", "gone"))));
        send("alice@example.test", "gone@example.test");
        await().atMost(WAIT).until(() -> appliance.queue().list(10).isEmpty());
        assertThat(primary.verbs()).contains("DATA");

        RecipientCache cache = ((H2MailQueue) appliance.queue()).recipientCache();
        Instant now = Instant.now();
        assertThat(cache.lookup("alice@example.test", now)).hasValueSatisfying(e -> {
            assertThat(e.valid()).isTrue();
            assertThat(e.source()).isEqualTo(RecipientCache.Source.DELIVERY);
            assertThat(e.expiresAt()).isAfter(now.plus(Duration.ofDays(29)));
        });
        assertThat(cache.lookup("gone@example.test", now)).hasValueSatisfying(e -> {
            assertThat(e.valid()).isFalse();
            assertThat(e.reply()).isEqualTo("<gone@example.test>: " + UNKNOWN_TEXT);
            assertThat(e.expiresAt()).isBefore(now.plus(Duration.ofHours(2)));
        });
    }

    @Test
    void aCatchAllPrimaryIsDetected() throws Exception {
        primary = FakePrimaryMx.start(); // accepts every RCPT
        start(config(calloutDomain(null)));
        assertThat(rcpt("anyone@example.test")).startsWith("250");
        assertThat(primary.commands()).anyMatch(c -> c.matches("RCPT TO:<backstop-check-[0-9a-f]{16}@example.test>"));
        assertThat(metrics()).contains("backstop_callouts_total{domain=\"example.test\",result=\"catch_all\"} 1.0",
                "backstop_callouts_total{domain=\"example.test\",result=\"valid\"} 1.0");
    }

    @Test
    void calloutSessionsStayBoundedUnder200ConcurrentRcpts() throws Exception {
        AtomicInteger rcpts = new AtomicInteger();
        primary = FakePrimaryMx.start().answer((verb, arg) -> {
            if (verb.equals("RCPT")) {
                rcpts.incrementAndGet();
                try {
                    Thread.sleep(20); // a primary that takes its time, so that callouts overlap
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return arg.contains("backstop-check-") ? "550 5.1.1 no such user" : null;
            }
            return null;
        });
        BackstopConfig config = config(calloutDomain(null));
        SmtpConfig d = config.smtp();
        config = config.withSmtp(new SmtpConfig(d.listen(), d.maxMessageSize(), d.maxRecipients(),
                d.recipientOvershootLimit(), 500, 250, d.idleTimeout(), d.maxCommandLineLength(), d.maxLineLength(),
                d.maxErrors(), d.maxReceivedHeaders(), 64, d.postmaster(), d.tls(), d.proxyProtocol(),
                d.proxyTrusted()));
        start(config);

        ExecutorService clients = Executors.newFixedThreadPool(200);
        try {
            List<Callable<String>> tasks = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                String address = "user" + i + "@example.test";
                tasks.add(() -> rcpt(address));
            }
            List<String> replies = new ArrayList<>();
            for (Future<String> f : clients.invokeAll(tasks)) {
                replies.add(f.get());
            }
            assertThat(replies).allMatch(r -> r.startsWith("250"), "every RCPT accepted");
        } finally {
            clients.shutdownNow();
        }
        assertThat(primary.connections()).isBetween(1, 5); // callout.max-sessions
        assertThat(rcpts.get()).isGreaterThanOrEqualTo(200);
    }

    private String rcpt(String address) throws IOException {
        return rcpt(appliance.smtpAddress(), address);
    }

    /** One SMTP session: EHLO, MAIL, one RCPT; the reply to the RCPT. */
    static String rcpt(java.net.InetSocketAddress smtp, String address) throws IOException {
        try (SmtpTranscript s = new SmtpTranscript(smtp, 30_000)) {
            assertThat(s.reply()).startsWith("220");
            assertThat(s.command("EHLO client.sender.test")).startsWith("250");
            assertThat(s.command("MAIL FROM:<someone@sender.test>")).startsWith("250");
            String reply = s.command("RCPT TO:<" + address + ">");
            s.command("QUIT");
            return reply;
        }
    }

    private void send(String... recipients) throws IOException {
        try (SmtpTranscript s = new SmtpTranscript(appliance.smtpAddress(), 30_000)) {
            assertThat(s.reply()).startsWith("220");
            assertThat(s.command("EHLO client.sender.test")).startsWith("250");
            assertThat(s.command("MAIL FROM:<someone@sender.test>")).startsWith("250");
            for (String r : recipients) {
                assertThat(s.command("RCPT TO:<" + r + ">")).startsWith("250");
            }
            assertThat(s.command("DATA")).startsWith("354");
            assertThat(s.command("Subject: hello\r\n\r\nbody\r\n.")).startsWith("250");
            s.command("QUIT");
        }
    }

    private String metrics() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + appliance.metricsAddress().getPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        return r.body();
    }
}
