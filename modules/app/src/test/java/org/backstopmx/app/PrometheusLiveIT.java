package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.PrometheusServer;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import jakarta.mail.Session;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard and the alert rules against the real thing: a Prometheus server (the Debian package's binary, on
 * loopback, scraping every second) scrapes a running Backstop while mail flows. Every expression of every dashboard
 * panel must return data through Prometheus's HTTP API, every alert expression must evaluate and every metric it
 * names must exist, and the primary-down alert must fire while the primary is stopped (the rules are loaded with
 * their {@code for:} shortened to one second; their timing is unit-tested by {@code promtool test rules}).
 */
class PrometheusLiveIT {
    private static final Path DASHBOARD = Path.of("..", "..", "grafana", "dashboards", "backstop.json");
    private static final Path ALERTS = Path.of("..", "..", "deploy", "prometheus", "alerts.yml");
    private static final Pattern METRIC = Pattern.compile("\\b((?:backstop|jvm|process|up)[a-z_]*)\\b(?!\\s*\\()");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private FakePrimaryMx primary;
    private Appliance appliance;
    private PrometheusServer prometheus;

    @AfterEach
    void stop() throws Exception {
        if (prometheus != null) {
            prometheus.close();
        }
        if (appliance != null) {
            appliance.close();
        }
        if (primary != null) {
            primary.close();
        }
    }

    @Test
    void everyPanelAndAlertWorksAgainstALiveBackstop() throws Exception {
        assertThat(PrometheusServer.isInstalled()).as("the prometheus binary (Debian package 'prometheus') is needed")
                .isTrue();
        primary = FakePrimaryMx.start();
        appliance = Appliance.start(InProcessConfig.serving(dir, primary.port(), Duration.ofSeconds(1)),
                Clock.systemUTC());
        send(3, "bob@example.test");
        send(1, "nobody@elsewhere.example"); // refused: relay denied, so the rejection series move too

        prometheus = PrometheusServer.start(prometheusConfig(), dir);
        // two scrapes at least, so that rate() and increase() have something to work on
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                .until(() -> samples("count_over_time(backstop_queue_messages[1m])") >= 3);

        List<String> problems = new ArrayList<>();
        for (String expr : dashboardExpressions()) {
            JsonNode answer = JSON.readTree(prometheus.query(expr));
            if (!"success".equals(answer.path("status").asText())) {
                problems.add("panel query fails: " + expr + " -> " + answer);
            } else if (answer.path("data").path("result").isEmpty()) {
                problems.add("panel query returns no data: " + expr);
            }
        }
        for (String expr : alertExpressions()) {
            JsonNode answer = JSON.readTree(prometheus.query(expr));
            if (!"success".equals(answer.path("status").asText())) {
                problems.add("alert expression fails: " + expr + " -> " + answer);
            }
            for (String metric : metricNames(expr)) {
                if (samples("count({__name__=\"" + metric + "\"})") == 0) {
                    problems.add("alert expression names a metric that is not scraped: " + metric + " in " + expr);
                }
            }
        }
        assertThat(problems).as(String.join("\n", problems)).isEmpty();

        primary.stop();
        send(1, "bob@example.test"); // the attempt finds the primary down
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
                .until(() -> firing().contains("BackstopPrimaryDown"));
    }

    private Path prometheusConfig() throws Exception {
        // the rules as shipped, with every for: shortened so that a condition fires within the test
        JsonNode rules = new YAMLMapper().readTree(ALERTS.toFile());
        for (JsonNode group : rules.path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                if (rule.has("for")) {
                    ((ObjectNode) rule).put("for", "1s");
                }
            }
        }
        Path alerts = dir.resolve("alerts.yml");
        new YAMLMapper().writeValue(alerts.toFile(), rules);
        Path config = dir.resolve("prometheus.yml");
        Files.writeString(config, String.join("\n",
                "global:",
                "  scrape_interval: 1s",
                "  evaluation_interval: 1s",
                "rule_files: [" + alerts.toAbsolutePath() + "]",
                "scrape_configs:",
                "  - job_name: backstop",
                "    static_configs:",
                "      - targets: ['127.0.0.1:" + appliance.metricsAddress().getPort() + "']",
                ""));
        return config;
    }

    /** Every {@code expr} of the dashboard's panels (rows included), with Grafana's variables filled in. */
    private static List<String> dashboardExpressions() throws Exception {
        List<String> out = new ArrayList<>();
        collect(JSON.readTree(DASHBOARD.toFile()).path("panels"), out);
        assertThat(out).as("dashboard expressions").isNotEmpty();
        return out;
    }

    private static void collect(JsonNode panels, List<String> out) {
        for (JsonNode panel : panels) {
            for (JsonNode target : panel.path("targets")) {
                if (target.hasNonNull("expr") && !target.get("expr").asText().isBlank()) {
                    out.add(grafanaVariables(target.get("expr").asText()));
                }
            }
            collect(panel.path("panels"), out);
        }
    }

    /** {@code $__rate_interval} and friends become a range; any other variable matches everything. */
    static String grafanaVariables(String expr) {
        String s = expr.replaceAll("\\$\\{?__(rate_interval|interval|range)\\}?", "1m");
        s = s.replaceAll("=\\s*\"\\$\\{?\\w+(:\\w+)?\\}?\"", "=~\".*\"");
        s = s.replaceAll("=~\\s*\"\\$\\{?\\w+(:\\w+)?\\}?\"", "=~\".*\"");
        return s;
    }

    private static List<String> alertExpressions() throws Exception {
        List<String> out = new ArrayList<>();
        for (JsonNode group : new YAMLMapper().readTree(ALERTS.toFile()).path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                out.add(rule.path("expr").asText());
            }
        }
        assertThat(out).as("alert expressions").isNotEmpty();
        return out;
    }

    /** Metric names in an expression: identifiers that look like ours and are not functions. */
    static Set<String> metricNames(String expr) {
        Set<String> names = new LinkedHashSet<>();
        String withoutLabels = expr.replaceAll("\\{[^}]*\\}", "{}").replaceAll("\"[^\"]*\"", "\"\"");
        Matcher m = METRIC.matcher(withoutLabels);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    private int samples(String expr) throws Exception {
        JsonNode result = JSON.readTree(prometheus.query(expr)).path("data").path("result");
        if (result.isEmpty()) {
            return 0;
        }
        return (int) Double.parseDouble(result.get(0).path("value").get(1).asText());
    }

    private List<String> firing() throws Exception {
        List<String> names = new ArrayList<>();
        for (JsonNode a : JSON.readTree(prometheus.alerts()).path("data").path("alerts")) {
            if ("firing".equals(a.path("state").asText())) {
                names.add(a.path("labels").path("alertname").asText());
            }
        }
        return names;
    }

    private void send(int count, String recipient) throws Exception {
        Session session = TestMail.session(appliance.smtpAddress());
        try (SMTPTransport t = (SMTPTransport) session.getTransport("smtp")) {
            t.connect();
            for (int i = 0; i < count; i++) {
                try {
                    TestMail.send(t, session, TestMail.message("live-" + i, 5), recipient);
                } catch (jakarta.mail.SendFailedException e) {
                    // a refused recipient is part of the traffic
                }
            }
        }
    }
}
