package org.backstopmx.app.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.backstopmx.app.config.Configs.repoFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.HostPort;
import org.junit.jupiter.api.Test;

/**
 * Keeps {@code deploy/backstop.example.yaml} and {@code README.md} in step with {@link ConfigKeys}: a key
 * added to the loader and not documented, or documented and not known, fails here.
 */
class DocumentationTest {
    static final Path EXAMPLE = repoFile("deploy/backstop.example.yaml");
    static final Path TABLE = repoFile("README.md");

    /**
     * The example names files of a production machine (/etc/backstop/tls.crt, ...), which this machine has not: it is
     * loaded with the file checks off, so everything else about it is checked.
     */
    @Test
    void theExampleFileLoads() throws Exception {
        BackstopConfig config = ConfigLoader.load(Optional.of(EXAMPLE), Map.of(), FileCheck.NONE);

        assertThat(config.hostname()).isEqualTo("backstop.example.org");
        assertThat(config.smtp().listen()).isEqualTo(new HostPort("0.0.0.0", 25));
        assertThat(config.queue().path()).isEqualTo(Path.of("/var/lib/backstop"));
        assertThat(config.servedDomains()).containsExactlyInAnyOrder("example.org", "example.com");
        assertThat(config.smtp().tls()).isNotNull();
    }

    /** Its values are the defaults, apart from the production choices it is there to show. */
    @Test
    void theExampleFileStatesTheDefaults() throws Exception {
        BackstopConfig config = ConfigLoader.load(Optional.of(EXAMPLE), Map.of(), FileCheck.NONE);
        BackstopConfig d = BackstopConfig.defaults();

        assertThat(config.smtp().withListen(d.smtp().listen()).withTls(null)).isEqualTo(d.smtp());
        assertThat(config.queue().withPath(d.queue().path())).isEqualTo(d.queue());
        assertThat(config.retry()).isEqualTo(d.retry());
        assertThat(config.probe()).isEqualTo(d.probe());
        assertThat(config.delivery()).isEqualTo(d.delivery());
        assertThat(config.screen()).isEqualTo(d.screen());
        assertThat(config.domains().values()).allSatisfy(domain -> assertThat(domain.tls()).isNull());
        assertThat(config.dns()).isEqualTo(d.dns());
        assertThat(config.metrics()).isEqualTo(d.metrics());
        assertThat(config.admin().listen()).isEqualTo(d.admin().listen());
    }

    @Test
    void theExampleFileShowsEveryKey() throws IOException {
        Set<String> shown = outline(Files.readAllLines(EXAMPLE));

        assertThat(shown).containsAll(ConfigKeys.all());
    }

    /** Commented-out keys are not read by the loader, so this catches a typo in them. */
    @Test
    void everyKeyInTheExampleFileIsKnown() throws IOException {
        Set<String> sections = new HashSet<>();
        for (String key : ConfigKeys.all()) {
            for (int dot = key.indexOf('.'); dot > 0; dot = key.indexOf('.', dot + 1)) {
                sections.add(key.substring(0, dot));
            }
        }

        assertThat(outline(Files.readAllLines(EXAMPLE)))
                .allSatisfy(key -> assertThat(ConfigKeys.all().contains(key) || sections.contains(key))
                        .as("%s is a key or a section", key).isTrue());
    }

    @Test
    void theTableListsEveryKeyOnce() throws IOException {
        assertThat(table().keySet()).containsExactlyElementsOf(ConfigKeys.all());
    }

    /** Setting every key to the default the table states must give the embedded defaults. */
    @Test
    void theTableStatesTheDefaults() throws Exception {
        Map<String, String> env = new LinkedHashMap<>();
        table().forEach((key, dflt) -> {
            Matcher literal = Pattern.compile("^`([^`]+)`$").matcher(dflt);
            if (ConfigKeys.FIXED.contains(key) && literal.matches()) {
                env.put(ConfigKeys.envName(key), literal.group(1));
            }
        });

        BackstopConfig config = ConfigLoader.load(Optional.empty(), env, FileCheck.NONE);

        assertThat(env).hasSizeGreaterThan(20);
        assertThat(config.withQueue(config.queue().withPath(config.queue().path().normalize())))
                .isEqualTo(BackstopConfig.defaults());
    }

    /** The {@code | key | default | meaning |} table: key → default, in order. Other tables in the file are skipped. */
    private static Map<String, String> table() throws IOException {
        Map<String, String> rows = new LinkedHashMap<>();
        boolean inTable = false;
        for (String line : Files.readAllLines(TABLE)) {
            if (line.replace(" ", "").equals("|key|default|meaning|")) {
                inTable = true;
            } else if (!line.startsWith("|")) {
                inTable = false;
            } else if (inTable && !line.startsWith("| ---")) {
                String[] cells = line.split("\\s*\\|\\s*");
                String key = cells[1].replace("`", "");
                assertThat(rows.put(key, cells[2])).as("%s is in the table once", key).isNull();
            }
        }
        return rows;
    }

    @Test
    void theTableExplainsTheEnvironment() throws IOException {
        String table = Files.readString(TABLE);

        assertThat(table).contains("BACKSTOP_", ConfigKeys.DOMAINS_ENV, ConfigKeys.envName("smtp.listen"));
        assertThat(table).contains(ConfigKeys.IGNORED_ENV.stream().map(v -> "`" + v + "`").collect(Collectors.toList()));
    }

    private static final Pattern KEY_LINE =
            Pattern.compile("^( *)(?:# ?)?( *)([a-z0-9][a-z0-9.-]*):(?: |$)");

    /**
     * The dotted keys of a YAML file, commented-out ones included: a line {@code key:} or {@code # key:} is a key,
     * its depth given by its indentation, counted past a {@code "# "} so that {@code "  #   certificate:"} sits
     * under {@code "  # tls:"}. Descriptive comments start with a capital letter and so are not keys. The name under
     * {@code domains} and {@code routes} becomes {@code <name>} and {@code <domain>}, as in {@link ConfigKeys#all()}.
     */
    static Set<String> outline(List<String> lines) {
        Set<String> keys = new LinkedHashSet<>();
        Deque<Map.Entry<Integer, String>> stack = new ArrayDeque<>();
        for (String line : lines) {
            Matcher m = KEY_LINE.matcher(line);
            if (!m.find()) {
                continue;
            }
            int indent = m.group(1).length() + m.group(2).length();
            while (!stack.isEmpty() && stack.peek().getKey() >= indent) {
                stack.pop();
            }
            String name = m.group(3);
            if (stack.size() == 1 && stack.peekLast().getValue().equals(ConfigKeys.DOMAINS)) {
                name = "<name>";
            } else if (stack.size() == 1 && stack.peekLast().getValue().equals(ConfigKeys.ROUTES)) {
                name = "<domain>";
            }
            stack.push(Map.entry(indent, name));
            List<String> path = stack.stream().map(Map.Entry::getValue).collect(Collectors.toList());
            Collections.reverse(path);
            keys.add(String.join(".", path));
        }
        return keys;
    }

    @Test
    void theOutlineReadsCommentedKeysAtTheirDepth() {
        assertThat(outline(List.of(
                "# Our name. Default: x",
                "hostname: a.example",
                "smtp:",
                "  # STARTTLS: both or neither.",
                "  # tls:",
                "  #   certificate: /c",
                "  listen: 0.0.0.0:25",
                "domains:",
                "  example.org:",
                "    # route: mail.example.org:25",
                "routes:",
                "  example.net: 10.0.0.5:25")))
                .containsExactly("hostname", "smtp", "smtp.tls", "smtp.tls.certificate", "smtp.listen", "domains",
                        "domains.<name>", "domains.<name>.route", "routes", "routes.<domain>");
    }
}
