package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.backstopmx.core.Metrics;
import org.junit.jupiter.api.Test;

/**
 * The Grafana board and the Prometheus alert rules name only metrics that Backstop exports: every {@code backstop_*}
 * name in their PromQL is the Prometheus form of a name in {@link Metrics} (dots become underscores; counters end in
 * {@code _total}; the duration histograms in {@code _seconds_bucket}, {@code _seconds_count}, {@code _seconds_sum};
 * the oldest-age gauge, in seconds, in {@code _seconds}; other gauges keep their name). Also the board's shape: its
 * uid, its variables, a query in every panel; and the texts every alert needs.
 */
class ObservabilityArtefactsTest {
    private static final Path DASHBOARD = Path.of("..", "..", "grafana", "dashboards", "backstop.json");
    private static final Path ALERTS = Path.of("..", "..", "deploy", "prometheus", "alerts.yml");
    private static final Pattern BACKSTOP_METRIC = Pattern.compile("\\bbackstop_[a-z_]+");
    private static final Pattern STRING_LITERAL = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'");

    /** Counters: Prometheus adds {@code _total}. */
    private static final Set<String> COUNTERS = Set.of(Metrics.DELIVERY_TLS, Metrics.SMTP_SESSIONS, Metrics.SMTP_MESSAGES_RECEIVED,
            Metrics.SMTP_BYTES_RECEIVED, Metrics.SMTP_REJECTIONS, Metrics.SMTP_PROXY_REFUSED, Metrics.DELIVERY_ATTEMPTS,
            Metrics.BOUNCES, Metrics.BOUNCES_SUPPRESSED, Metrics.SCREEN_DECISIONS,
            Metrics.DNS_LOOKUPS);
    /** Timers published as histograms: {@code _seconds} and the histogram's series. */
    private static final Set<String> HISTOGRAMS = Set.of(Metrics.QUEUE_RESIDENCE, Metrics.DELIVERY_DURATION);
    /** Gauges with the base unit seconds. */
    private static final Set<String> SECONDS_GAUGES = Set.of(Metrics.QUEUE_OLDEST_AGE);

    private final ObjectMapper json = new ObjectMapper();
    private final YAMLMapper yaml = new YAMLMapper();

    @Test
    void everyMetricOnTheDashboardIsExported() throws Exception {
        assertAllExported("dashboard " + DASHBOARD, dashboardExpressions());
    }

    @Test
    void everyMetricInTheAlertRulesIsExported() throws Exception {
        assertAllExported("alert rules " + ALERTS, alertExpressions().values());
    }

    @Test
    void theNamesOfTheCatalogueHaveTheirPrometheusForms() {
        Map<String, String> names = prometheusNames();
        assertThat(names).containsEntry("backstop_queue_messages", Metrics.QUEUE_MESSAGES)
                .containsEntry("backstop_queue_oldest_age_seconds", Metrics.QUEUE_OLDEST_AGE)
                .containsEntry("backstop_smtp_messages_received_total", Metrics.SMTP_MESSAGES_RECEIVED)
                .containsEntry("backstop_delivery_duration_seconds_bucket", Metrics.DELIVERY_DURATION)
                .containsEntry("backstop_queue_residence_seconds_count", Metrics.QUEUE_RESIDENCE)
                .doesNotContainKey("backstop_queue_messages_total")
                .doesNotContainKey("backstop_bounces")
                .doesNotContainKey("backstop_queue_oldest_age");
    }

    @Test
    void theDashboardHasItsUidVariablesAndAQueryInEveryPanel() throws Exception {
        JsonNode board = json.readTree(DASHBOARD.toFile());
        assertThat(board.path("uid").asText()).isEqualTo("backstop-mx");
        assertThat(board.path("title").asText()).isEqualTo("Backstop MX");
        assertThat(board.path("schemaVersion").asInt()).isGreaterThanOrEqualTo(38);

        Map<String, String> variables = new TreeMap<>();
        for (JsonNode v : board.path("templating").path("list")) {
            variables.put(v.path("name").asText(), v.path("type").asText());
        }
        assertThat(variables).containsEntry("datasource", "datasource").containsKey("instance");
        for (JsonNode v : board.path("templating").path("list")) {
            if (v.path("name").asText().equals("datasource")) {
                assertThat(v.path("query").asText()).isEqualTo("prometheus");
            }
        }

        List<JsonNode> panels = new ArrayList<>();
        collectPanels(board.path("panels"), panels);
        assertThat(panels).as("panels").isNotEmpty();
        for (JsonNode panel : panels) {
            String title = panel.path("title").asText();
            List<String> exprs = new ArrayList<>();
            for (JsonNode target : panel.path("targets")) {
                if (!target.path("expr").asText().isBlank()) {
                    exprs.add(target.path("expr").asText());
                }
            }
            assertThat(exprs).as("queries of panel \"%s\"", title).isNotEmpty();
            assertThat(panel.path("gridPos").isObject()).as("gridPos of panel \"%s\"", title).isTrue();
        }
        assertThat(panels).extracting(p -> p.path("id").asInt()).doesNotHaveDuplicates();
    }

    @Test
    void everyAlertExplainsItselfToAMailAdmin() throws Exception {
        JsonNode rules = yaml.readTree(ALERTS.toFile());
        Set<String> names = new TreeSet<>();
        for (JsonNode group : rules.path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                String name = rule.path("alert").asText();
                assertThat(name).as("alert name of %s", rule).isNotBlank();
                assertThat(names.add(name)).as("alert %s defined once", name).isTrue();
                assertThat(rule.path("labels").path("severity").asText()).as("severity of %s", name)
                        .isIn("warning", "critical");
                assertThat(rule.path("annotations").path("summary").asText()).as("summary of %s", name)
                        .isNotBlank();
                assertThat(rule.path("annotations").path("description").asText()).as("description of %s", name)
                        .isNotBlank();
            }
        }
        assertThat(names).contains("BackstopDown", "BackstopPrimaryDown", "BackstopQueueGrowing",
                "BackstopOldestMessageOld", "BackstopBouncesSpiking", "BackstopQueueNotWritable");
    }

    private void assertAllExported(String where, Iterable<String> expressions) {
        Map<String, String> exported = prometheusNames();
        Set<String> used = new TreeSet<>();
        List<String> unknown = new ArrayList<>();
        for (String expr : expressions) {
            for (String name : metricNames(expr)) {
                used.add(name);
                if (!exported.containsKey(name)) {
                    unknown.add(name + " in: " + expr);
                }
            }
        }
        assertThat(used).as("backstop_* metrics used by the " + where).isNotEmpty();
        assertThat(unknown).as("metrics used by the " + where + " that are not in org.backstopmx.core.Metrics"
                + " (exported: " + new TreeSet<>(exported.keySet()) + ")").isEmpty();
    }

    /** The {@code backstop_*} metric names in a PromQL expression; label values (quoted strings) do not count. */
    static Set<String> metricNames(String expr) {
        Set<String> names = new TreeSet<>();
        Matcher m = BACKSTOP_METRIC.matcher(STRING_LITERAL.matcher(expr).replaceAll("\"\""));
        while (m.find()) {
            names.add(m.group());
        }
        return names;
    }

    /** Every Prometheus series name Backstop exports, mapped to the {@link Metrics} name it comes from. */
    static Map<String, String> prometheusNames() {
        Map<String, String> out = new TreeMap<>();
        for (String dotted : catalogue()) {
            String base = dotted.replace('.', '_');
            if (COUNTERS.contains(dotted)) {
                out.put(base + "_total", dotted);
            } else if (HISTOGRAMS.contains(dotted)) {
                for (String suffix : List.of("_bucket", "_count", "_sum", "_max")) {
                    out.put(base + "_seconds" + suffix, dotted);
                }
            } else if (SECONDS_GAUGES.contains(dotted)) {
                out.put(base + "_seconds", dotted);
            } else {
                out.put(base, dotted);
            }
        }
        return out;
    }

    /** The metric names of {@link Metrics}: its public static String constants, except the label value OTHER. */
    private static List<String> catalogue() {
        List<String> names = new ArrayList<>();
        for (Field f : Metrics.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class && !f.getName().equals("OTHER")) {
                try {
                    names.add((String) f.get(null));
                } catch (IllegalAccessException e) {
                    throw new AssertionError(e);
                }
            }
        }
        assertThat(names).as("metric names in org.backstopmx.core.Metrics").isNotEmpty()
                .allMatch(n -> n.startsWith("backstop."));
        return names;
    }

    private List<String> dashboardExpressions() throws Exception {
        JsonNode board = json.readTree(DASHBOARD.toFile());
        List<JsonNode> panels = new ArrayList<>();
        collectPanels(board.path("panels"), panels);
        List<String> out = new ArrayList<>();
        for (JsonNode panel : panels) {
            for (JsonNode target : panel.path("targets")) {
                if (target.hasNonNull("expr")) {
                    out.add(target.get("expr").asText());
                }
            }
        }
        for (JsonNode v : board.path("templating").path("list")) {
            if (v.path("query").isObject()) {
                out.add(v.path("query").path("query").asText());
            } else if (v.path("type").asText().equals("query")) {
                out.add(v.path("query").asText());
            }
        }
        return out;
    }

    /** Every panel that shows data: rows are walked into (collapsed rows keep their panels inside), not counted. */
    private static void collectPanels(JsonNode panels, List<JsonNode> out) {
        for (JsonNode panel : panels) {
            if (panel.path("type").asText().equals("row")) {
                collectPanels(panel.path("panels"), out);
            } else {
                out.add(panel);
                collectPanels(panel.path("panels"), out);
            }
        }
    }

    private Map<String, String> alertExpressions() throws Exception {
        Map<String, String> out = new TreeMap<>();
        for (JsonNode group : yaml.readTree(ALERTS.toFile()).path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                String name = rule.has("alert") ? rule.path("alert").asText() : rule.path("record").asText();
                out.put(name, rule.path("expr").asText());
            }
        }
        assertThat(out).as("rules in " + ALERTS).isNotEmpty();
        return out;
    }
}
