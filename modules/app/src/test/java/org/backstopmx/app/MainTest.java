package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.HostPort;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line, in process. */
class MainTest {
    @TempDir
    Path dir;

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void badConfigurationNamesEveryKeyAndExits2() throws Exception {
        Path config = dir.resolve("bad.yaml");
        Files.writeString(config, "smtp:\n  lisen: 0.0.0.0:25\n  max-recipients: -1\ndomains:\n  example.org.:\n    route: x\n");
        Run r = run("serve", "--config", config.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("smtp.lisen").contains("smtp.max-recipients").contains("domains.example.org.");
    }

    @Test
    void queueListOnAQueueThatIsEmpty() throws Exception {
        Path config = TestMail.writeConfig(dir, "");
        BackstopConfig cfg = org.backstopmx.app.config.ConfigLoader.load(java.util.Optional.of(config), java.util.Map.of());
        try (Appliance a = Appliance.start(cfg, Clock.systemUTC())) {
            assertThat(a.smtpAddress().getPort()).isPositive();
        }
        Run r = run("queue", "list", "--config", config.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("Mail queue is empty");
    }

    @Test
    void queueListWhileTheApplianceRunsSaysWhy() throws Exception {
        Path config = TestMail.writeConfig(dir, "");
        BackstopConfig cfg = org.backstopmx.app.config.ConfigLoader.load(java.util.Optional.of(config), java.util.Map.of());
        try (Appliance a = Appliance.start(cfg, Clock.systemUTC())) {
            try (SmtpTranscript t = new SmtpTranscript(a.smtpAddress())) {
                assertThat(t.reply()).startsWith("220 backstop.it.test");
            }
            Run r = run("queue", "list", "--config", config.toString());
            assertThat(r.code()).isEqualTo(1);
            assertThat(r.err()).containsAnyOf("in use", "already open");
        }
    }

    @Test
    void aSecondApplianceOnTheSameQueueIsRefused() throws Exception {
        Path config = TestMail.writeConfig(dir, "");
        BackstopConfig cfg = org.backstopmx.app.config.ConfigLoader.load(java.util.Optional.of(config), java.util.Map.of());
        try (Appliance a = Appliance.start(cfg, Clock.systemUTC())) {
            BackstopConfig second = cfg.withSmtp(cfg.smtp().withListen(new HostPort("127.0.0.1", 0)));
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> Appliance.start(second, Clock.systemUTC()))
                    .message().containsAnyOf("in use", "already open");
        }
    }

    @Test
    void usageWithoutACommand() {
        Run r = run();
        assertThat(r.out()).contains("serve").contains("queue");
    }
}
