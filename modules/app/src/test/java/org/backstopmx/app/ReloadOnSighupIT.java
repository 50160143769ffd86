package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -HUP} to the appliance jar reloads the served domains: a session opened before the signal stays open
 * and its next RCPT sees the new list, and the process keeps running (without the handler, SIGHUP would stop the JVM).
 */
class ReloadOnSighupIT {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void sighupReloadsTheServedDomainsUnderAnOpenSession() throws Exception {
        Path config = dir.resolve("backstop.yaml");
        writeConfig(config, "old.test");
        try (BackstopProcess backstop = BackstopProcess.serve(config)) {
            await().atMost(WAIT).until(() -> backstop.output().contains("configuration reloaded on SIGHUP"));
            try (SmtpTranscript t = new SmtpTranscript(backstop.smtp())) {
                assertThat(t.reply()).startsWith("220 ");
                assertThat(t.command("EHLO client.test")).startsWith("250");
                assertThat(t.command("MAIL FROM:<a@sender.test>")).startsWith("250");
                assertThat(t.command("RCPT TO:<x@new.test>")).startsWith("550 5.7.1");

                writeConfig(config, "new.test");
                Process kill = new ProcessBuilder("kill", "-HUP", String.valueOf(backstop.pid())).inheritIO().start();
                assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
                assertThat(kill.exitValue()).isZero();
                await().atMost(WAIT).until(() -> backstop.output()
                        .contains("config reloaded: domains=new.test, recipients=0 (SIGHUP)"));

                assertThat(t.command("RCPT TO:<y@new.test>")).startsWith("250");
                assertThat(t.command("RCPT TO:<y@old.test>")).startsWith("550 5.7.1");
                assertThat(t.command("QUIT")).startsWith("221");
            }
            assertThat(backstop.isAlive()).isTrue();
            assertThat(backstop.stop()).as(backstop.output()).isZero();
        }
    }

    private void writeConfig(Path config, String domain) throws Exception {
        Files.writeString(config, "hostname: backstop.it.test\n"
                + "smtp:\n  listen: 127.0.0.1:0\n"
                + "domains:\n  " + domain + ": {}\n"
                + "queue:\n  path: " + dir.resolve("queue") + "\n"
                + "metrics:\n  listen: 127.0.0.1:0\n"
                + "admin:\n  listen: 127.0.0.1:0\n");
    }
}
