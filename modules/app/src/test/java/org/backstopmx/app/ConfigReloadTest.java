package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.backstopmx.app.config.ConfigLoader;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Reloading the served domains and recipients while sessions are open: the whole appliance in this JVM, its
 * configuration in a file loaded as {@code serve} loads it, the reloader polling every 50 ms. SIGHUP itself is
 * covered by {@link ReloadOnSighupIT}; here {@link ConfigReloader#reloadSoon} stands in for it.
 */
class ConfigReloadTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String RELAY_DENIED = "550 5.7.1";
    private static final String USER_UNKNOWN = "550 5.1.1";

    @TempDir
    Path dir;

    private Path file;
    private Path recipients;
    private Appliance appliance;
    private ConfigReloader reloader;
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final Logger reloaderLog = (Logger) LoggerFactory.getLogger(ConfigReloader.class);

    @BeforeEach
    void start() throws Exception {
        file = dir.resolve("backstop.yaml");
        recipients = dir.resolve("kept.recipients");
        Files.writeString(recipients, "alice\n");
        writeConfig("  old.test: {route: 127.0.0.1:9}\n", "");
        BackstopConfig config = load();
        appliance = Appliance.start(config, Clock.systemUTC());
        reloader = ConfigReloader.start(this::load, appliance::reload, config, Optional.of(file), Duration.ofMillis(50));
        log.start();
        reloaderLog.addAppender(log);
    }

    @AfterEach
    void stop() {
        reloaderLog.detachAppender(log);
        if (reloader != null) {
            reloader.close();
        }
        if (appliance != null) {
            appliance.close();
        }
    }

    @Test
    void aSessionOpenedBeforeTheReloadSeesTheNewDomainsOnTheSameConnection() throws Exception {
        try (SmtpTranscript t = client()) {
            assertThat(t.command("MAIL FROM:<a@sender.test>")).startsWith("250");
            assertThat(t.command("RCPT TO:<x@new.test>")).startsWith(RELAY_DENIED);
            assertThat(t.command("RCPT TO:<x@old.test>")).startsWith("250");

            writeConfig("  new.test: {route: 127.0.0.1:9}\n", "");
            long before = reloader.attempts();
            reloader.reloadSoon("test");
            await().atMost(WAIT).until(() -> reloader.attempts() > before);

            assertThat(t.command("RCPT TO:<y@new.test>")).startsWith("250");
            assertThat(t.command("RCPT TO:<y@old.test>")).startsWith(RELAY_DENIED);
            assertThat(t.command("DATA")).startsWith("354");
            assertThat(t.command("Subject: across a reload\r\n\r\nhello\r\n.")).startsWith("250 2.0.0");
        }
        assertThat(appliance.config().servedDomains()).containsExactlyInAnyOrder("kept.test", "new.test");
        assertThat(messages()).anyMatch(m -> m.startsWith("config reloaded: domains=kept.test,new.test, recipients=1"));
        assertThat(messages()).anyMatch(m -> m.contains("new.test served since the reload")
                && m.contains("domain=\"other\""));
    }

    @Test
    void anEditedRecipientsFileIsPickedUpWithoutASignal() throws Exception {
        try (SmtpTranscript t = client()) {
            assertThat(t.command("MAIL FROM:<a@sender.test>")).startsWith("250");
            assertThat(t.command("RCPT TO:<alice@kept.test>")).startsWith("250");
            assertThat(t.command("RCPT TO:<bob@kept.test>")).startsWith(USER_UNKNOWN);

            Files.writeString(recipients, "alice\nbob # arrived today\n");
            await().atMost(WAIT).until(() -> messages().stream().anyMatch(m -> m.startsWith("config reloaded:")
                    && m.contains("recipients=2") && m.contains(recipients.toString())));

            assertThat(t.command("RCPT TO:<bob@kept.test>")).startsWith("250");
        }
    }

    @Test
    void aBrokenConfigurationIsReportedByKeyAndTheRunningOneStays() throws Exception {
        writeConfig("  new.test: {}\n", "retry:\n  min-backoff: soon\n");
        long before = reloader.attempts();
        reloader.reloadSoon("test");
        await().atMost(WAIT).until(() -> reloader.attempts() > before);
        assertThat(messages()).anyMatch(m -> m.startsWith("config reload (test) failed, the running configuration"
                + " stays: retry.min-backoff: "));

        // a recipients-file that went missing is a problem of its key too, found by polling alone
        Files.delete(recipients);
        await().atMost(WAIT).until(() -> messages().stream().anyMatch(m -> m.contains("failed")
                && m.contains("domains.kept.test.recipients-file: file not found")));

        try (SmtpTranscript t = client()) {
            assertThat(t.command("MAIL FROM:<a@sender.test>")).startsWith("250");
            assertThat(t.command("RCPT TO:<x@new.test>")).startsWith(RELAY_DENIED);
            assertThat(t.command("RCPT TO:<x@old.test>")).startsWith("250");
            assertThat(t.command("RCPT TO:<alice@kept.test>")).startsWith("250");
        }
        assertThat(appliance.config().servedDomains()).containsExactlyInAnyOrder("kept.test", "old.test");
    }

    @Test
    void keysThatNeedARestartAreNamedWhileTheDomainsChangeAtOnce() throws Exception {
        writeConfig("  new.test: {}\n", "smtp:\n  listen: 127.0.0.1:0\n  max-recipients: 7\n");
        long before = reloader.attempts();
        reloader.reloadSoon("test");
        await().atMost(WAIT).until(() -> reloader.attempts() > before);
        assertThat(messages()).contains("config reload: changed keys that take effect only after a restart:"
                + " smtp.max-recipients");
        assertThat(appliance.config().servedDomains()).containsExactlyInAnyOrder("kept.test", "new.test");
        assertThat(appliance.config().smtp().maxRecipients()).isNotEqualTo(7);
    }

    @Test
    void watchingGoesOnAfterAnErrorInAReload() throws Exception {
        reloader.close();
        java.util.concurrent.atomic.AtomicInteger loads = new java.util.concurrent.atomic.AtomicInteger();
        org.backstopmx.core.Liveness liveness = new org.backstopmx.core.Liveness(Clock.systemUTC());
        reloader = ConfigReloader.start(() -> {
            if (loads.incrementAndGet() == 1) {
                throw new StackOverflowError(); // an Error out of a periodic task used to cancel every later poll
            }
            return load();
        }, appliance::reload, appliance.config(), Optional.of(file), Duration.ofMillis(50), liveness);

        writeConfig("  new.test: {route: 127.0.0.1:9}\n", "");
        await().atMost(WAIT).until(() -> appliance.config().servedDomains().contains("new.test"));
        assertThat(loads.get()).isGreaterThanOrEqualTo(2);
        assertThat(liveness.problem()).isEmpty();
        reloader.close();
        reloader = null;
    }

    private BackstopConfig load() throws org.backstopmx.app.config.ConfigException {
        return ConfigLoader.load(Optional.of(file), Map.of());
    }

    /** The configuration with {@code kept.test} (its recipients in a file) and these further domains. */
    private void writeConfig(String domains, String extra) throws Exception {
        String smtp = extra.contains("smtp:") ? "" : "smtp:\n  listen: 127.0.0.1:0\n";
        Files.writeString(file, "hostname: backstop.reload.test\n"
                + smtp
                + "domains:\n"
                + "  kept.test:\n    recipients-file: " + recipients + "\n    route: 127.0.0.1:9\n"
                + domains
                + "queue:\n  path: " + dir.resolve("queue") + "\n"
                + "metrics:\n  listen: 127.0.0.1:0\n"
                + "admin:\n  listen: 127.0.0.1:0\n"
                + extra);
    }

    private SmtpTranscript client() throws Exception {
        SmtpTranscript t = new SmtpTranscript(appliance.smtpAddress());
        assertThat(t.reply()).startsWith("220 ");
        assertThat(t.command("EHLO client.test")).startsWith("250");
        return t;
    }

    private java.util.List<String> messages() {
        return log.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }
}
