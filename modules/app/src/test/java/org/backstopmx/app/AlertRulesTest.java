package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The Prometheus artefacts as Prometheus's own checker sees them: {@code promtool check config} on the scrape
 * configuration, {@code promtool check rules} on the alert rules, and {@code promtool test rules} running their unit
 * tests ({@code alerts.test.yml}: each alert fires when it should, and only then).
 */
class AlertRulesTest {
    private static final Path DIR = Path.of("..", "..", "deploy", "prometheus").toAbsolutePath().normalize();

    @Test
    void scrapeConfigurationIsValid() throws Exception {
        promtool("check", "config", "prometheus.yml");
    }

    @Test
    void alertRulesAreValid() throws Exception {
        promtool("check", "rules", "alerts.yml");
    }

    @Test
    void alertRulesPassTheirUnitTests() throws Exception {
        promtool("test", "rules", "alerts.test.yml");
    }

    private static void promtool(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("promtool"));
        command.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(command).directory(DIR.toFile()).redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            throw new AssertionError("promtool is needed (Debian package 'prometheus'): " + e.getMessage(), e);
        }
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("promtool finished").isTrue();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(String.join(" ", command) + "\n" + output).isZero();
    }
}
