package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.HostPort;
import org.backstopmx.testkit.Dnsmasq;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line, in process. */
class MainTest {
    @TempDir
    Path dir;

    private static Cli.Run run(String... args) {
        return Cli.run(args);
    }

    @Test
    void badConfigurationNamesEveryKeyAndExits2() throws Exception {
        Path config = dir.resolve("bad.yaml");
        Files.writeString(config, "smtp:\n  lisen: 0.0.0.0:25\n  max-recipients: -1\ndomains:\n  example.org.:\n    route: x\n");
        Cli.Run r = run("serve", "--config", config.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("smtp.lisen").contains("smtp.max-recipients").contains("domains.example.org.");
    }

    @Test
    void checkConfigReportsEveryBadKeyAndExits1() throws Exception {
        Path config = dir.resolve("bad.yaml");
        Files.writeString(config, "hostname: backstop.example.org\n"
                + "smtp:\n  listen: 0.0.0.0:99999\n  max-message-size: 50 parsecs\n  idle-timeout: -5m\n"
                + "domains:\n  example.org:\n    recipients-file: " + dir.resolve("missing.txt") + "\n"
                + "queue:\n  lifetim: 5d\n"
                + "retry:\n  min-backoff: 2h\n  max-backoff: 1h\n"
                + "colour: blue\n");
        Cli.Run r = run("check-config", "--config", config.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).doesNotContain("configuration OK");
        assertThat(r.err()).contains("smtp.listen", "smtp.max-message-size", "smtp.idle-timeout",
                "domains.example.org.recipients-file", "queue.lifetim", "queue.lifetime" /* the suggestion */,
                "colour", "retry.");
        assertThat(r.err().lines().filter(l -> l.startsWith("  ")).count()).isGreaterThanOrEqualTo(7);
    }

    @Test
    void checkConfigAcceptsAGoodFileAndSaysWhatItWouldServe() throws Exception {
        Path config = TestMail.writeConfig(dir, "");
        Cli.Run r = run("check-config", "--config", config.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("configuration OK: " + config, "serving example.test", "hostname backstop.it.test");
    }

    @Test
    void checkConfigWithDnsRunsTheMxCheckOfEveryServedDomain() throws Exception {
        try (Dnsmasq dns = Dnsmasq.start(
                "--mx-host=example.test,primary.example.test,10", "--mx-host=example.test,backstop.it.test,20",
                "--host-record=primary.example.test,127.0.0.41",
                "--mx-host=broken.test,backstop.it.test,10", "--mx-host=broken.test,primary.broken.test,20")) {
            Path config = TestMail.writeConfig(dir, "dns:\n  server: " + dns.address().host() + ":" + dns.port() + "\n");
            Cli.Run good = run("check-config", "--dns", "--config", config.toString());
            assertThat(good.code()).as(good.toString()).isZero();
            assertThat(good.out()).contains("MX example.test: ok: MX [10 primary.example.test, 20 backstop.it.test]");

            Files.writeString(config, Files.readString(config).replace("domains:\n", "domains:\n  broken.test: {}\n"));
            Cli.Run broken = run("check-config", "--dns", "--config", config.toString());
            assertThat(broken.code()).as(broken.toString()).isEqualTo(1);
            assertThat(broken.out()).contains("MX broken.test: most_preferred: we are MX 10, the most preferred",
                    "MX example.test: ok");
            assertThat(broken.err()).contains("do not make backstop.it.test its backup MX");
        }
    }

    @Test
    void checkConfigWithAFileThatDoesNotExist() {
        Cli.Run r = run("check-config", "--config", dir.resolve("nope.yaml").toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("nope.yaml");
    }

    @Test
    void queueListOnAQueueThatIsEmpty() throws Exception {
        Path config = TestMail.writeConfig(dir, "");
        BackstopConfig cfg = org.backstopmx.app.config.ConfigLoader.load(java.util.Optional.of(config), java.util.Map.of());
        try (Appliance a = Appliance.start(cfg, Clock.systemUTC())) {
            assertThat(a.smtpAddress().getPort()).isPositive();
        }
        Cli.Run r = run("queue", "list", "--config", config.toString());
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
            Cli.Run r = run("queue", "list", "--config", config.toString());
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
        Cli.Run r = run();
        assertThat(r.out()).contains("serve").contains("queue");
    }
}
