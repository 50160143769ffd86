package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.backstopmx.app.DeployFiles.args;
import static org.backstopmx.app.DeployFiles.file;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.StreamSupport;
import org.backstopmx.app.DeployFiles.Instruction;
import org.backstopmx.app.config.ConfigException;
import org.backstopmx.app.config.ConfigLoader;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.QueueType;
import org.junit.jupiter.api.Test;

/**
 * The compose profile "cluster" agrees with itself and with the appliance: both nodes load their configuration as
 * the containers get it, name the database service, user and password file that the PostgreSQL image creates, and
 * differ in their node id, name and host ports; the lease the smoke test runs with passes the validation too. The
 * profile runs for real in {@code deploy/container/smoke-cluster.sh}.
 */
class ComposeClusterProfileTest {
    static final Path COMPOSE = file("deploy/compose.yaml");
    static final Path POSTGRES = file("deploy/compose/postgres");
    static final Path SMOKE = file("deploy/container/smoke-cluster.sh");
    static final List<String> NODES = List.of("backstop-a", "backstop-b");
    private static final String PASSWORD = "/run/secrets/backstop-db";

    private final JsonNode services = DeployFiles.yaml(COMPOSE).path("services");

    @Test
    void theProfileHoldsTheDatabaseAndTwoNodesAndNothingElseIsInIt() {
        List<String> inProfile = StreamSupport.stream(((Iterable<String>) services::fieldNames).spliterator(), false)
                .filter(s -> StreamSupport.stream(services.path(s).path("profiles").spliterator(), false)
                        .anyMatch(p -> p.asText().equals("cluster")))
                .toList();

        assertThat(inProfile).containsExactly("postgres", "backstop-a", "backstop-b");
        for (String node : NODES) {
            JsonNode dependsOn = services.path(node).path("depends_on");
            assertThat(dependsOn.path("postgres").path("condition").asText()).isEqualTo("service_healthy");
            assertThat(dependsOn.has("primary")).isTrue();
            assertThat(services.path(node).path("image").asText()).isEqualTo(services.path("backstop").path("image").asText());
            assertThat(services.path(node).path("build")).isEqualTo(services.path("backstop").path("build"));
        }
    }

    @Test
    void eachNodeLoadsItsConfigurationOnTheSharedQueueUnderItsOwnName() throws Exception {
        Map<String, BackstopConfig> configs = new LinkedHashMap<>();
        for (String node : NODES) {
            configs.put(node, load(node, Map.of()));
        }
        BackstopConfig a = configs.get("backstop-a");
        BackstopConfig b = configs.get("backstop-b");
        URI url = URI.create(a.queue().url().substring("jdbc:".length()));

        for (BackstopConfig c : configs.values()) {
            assertThat(c.queue().type()).isEqualTo(QueueType.POSTGRESQL);
            assertThat(c.queue().url()).isEqualTo(a.queue().url());
            assertThat(c.domains()).isEqualTo(a.domains());
            assertThat(c.domains().values()).allSatisfy(d -> assertThat(services.has(d.route().host())).isTrue());
        }
        assertThat(url.getHost()).isEqualTo("postgres");
        assertThat(url.getPort()).isEqualTo(5432);
        assertThat(a.queue().nodeId()).isNotBlank().isNotEqualTo(b.queue().nodeId());
        assertThat(a.hostname()).isNotEqualTo(b.hostname());
        // the role and database the image's first start creates
        String start = DeployFiles.read(POSTGRES.resolve("start-postgres"));
        assertThat(start).contains("CREATE ROLE " + a.queue().username() + " LOGIN")
                .contains("CREATE DATABASE " + url.getPath().substring(1) + " OWNER " + a.queue().username())
                .contains(PASSWORD);
        assertThat(DeployFiles.yaml(host(mounts(services.path("backstop-a")).get("/etc/backstop/backstop.yaml")))
                .path("queue").path("password-file").asText()).isEqualTo(PASSWORD);
    }

    @Test
    void theNodesAndTheDatabaseMountOnePasswordFileAndEachNodeItsOwnVolumeAndPorts() {
        Map<String, String> database = mounts(services.path("postgres"));
        Map<String, String> a = mounts(services.path("backstop-a"));
        Map<String, String> b = mounts(services.path("backstop-b"));

        assertThat(database.get(PASSWORD)).isNotNull().isEqualTo(a.get(PASSWORD)).isEqualTo(b.get(PASSWORD));
        assertThat(host(database.get(PASSWORD))).isRegularFile();
        assertThat(a.get("/etc/backstop/backstop.yaml")).isEqualTo(b.get("/etc/backstop/backstop.yaml"));
        assertThat(a.get("/var/lib/backstop")).isNotEqualTo(b.get("/var/lib/backstop"));
        assertThat(DeployFiles.yaml(COMPOSE).path("volumes").has(a.get("/var/lib/backstop"))).isTrue();
        assertThat(DeployFiles.yaml(COMPOSE).path("volumes").has(database.get("/var/lib/postgresql/data"))).isTrue();

        List<String> hostPorts = NODES.stream().flatMap(n -> StreamSupport.stream(services.path(n).path("ports").spliterator(), false))
                .map(p -> DeployFiles.composeDefaults(p.asText()).replaceAll(":[0-9]+$", "")).toList();
        List<String> defaultStack = StreamSupport.stream(services.path("backstop").path("ports").spliterator(), false)
                .map(p -> DeployFiles.composeDefaults(p.asText()).replaceAll(":[0-9]+$", "")).toList();
        assertThat(hostPorts).hasSize(4).doesNotHaveDuplicates().doesNotContainAnyElementsOf(defaultStack);
    }

    @Test
    void theDatabaseImageRunsDebiansPostgresqlAsItsOwnUserWithItsDataOnAVolume() {
        List<Instruction> image = DeployFiles.dockerfile(POSTGRES.resolve("Dockerfile"));
        JsonNode postgres = services.path("postgres");

        assertThat(args(image, "ARG")).anySatisfy(a -> assertThat(a).startsWith("BASE_IMAGE="));
        assertThat(args(image, "FROM")).containsExactly("${BASE_IMAGE}");
        assertThat(String.join("\n", args(image, "RUN"))).contains("install").contains(" postgresql;");
        assertThat(args(image, "USER")).containsExactly("postgres");
        assertThat(args(image, "VOLUME")).containsExactly("[\"/var/lib/postgresql/data\"]");
        assertThat(mounts(postgres)).containsKey("/var/lib/postgresql/data");
        assertThat(postgres.path("build").path("context").asText()).isEqualTo("compose/postgres");
        assertThat(postgres.path("healthcheck").path("test").toString()).contains("pg_isready");
        // SIGTERM is PostgreSQL's smart shutdown, which waits for the nodes to disconnect
        assertThat(postgres.path("stop_signal").asText()).isEqualTo("SIGINT");
        assertThat(args(image, "STOPSIGNAL")).containsExactly("SIGINT");
        assertThat(POSTGRES.resolve("start-postgres")).isExecutable();
    }

    @Test
    void theShortLeaseOfTheSmokeTestPassesTheValidation() throws Exception {
        Matcher m = Pattern.compile("(?m)^export (.*)$").matcher(DeployFiles.read(SMOKE));
        assertThat(m.find()).isTrue();
        Map<String, String> variables = new HashMap<>();
        for (String pair : m.group(1).split("\\s+")) {
            variables.put(pair.substring(0, pair.indexOf('=')), pair.substring(pair.indexOf('=') + 1));
        }

        assertThat(variables).containsKeys("LEASE_TIME", "CONNECT_TIMEOUT", "COMMAND_TIMEOUT", "DATA_TIMEOUT");
        for (String node : NODES) {
            BackstopConfig config = load(node, variables);
            assertThat(config.queue().leaseTime())
                    .isEqualTo(java.time.Duration.parse("PT" + variables.get("LEASE_TIME").toUpperCase()));
        }
        // and the validation does refuse a lease shorter than a minute, as the compose variables give it
        variables.put("LEASE_TIME", "10s");
        assertThat(catchThrowableOfType(ConfigException.class, () -> load("backstop-a", variables)).problems())
                .anySatisfy(p -> assertThat(p).startsWith("queue.lease-time:"));
    }

    /** A node's configuration as its container gets it; the password file read where compose mounts it from. */
    private BackstopConfig load(String node, Map<String, String> variables) throws ConfigException {
        Map<String, String> mounts = mounts(services.path(node));
        Map<String, String> env = new HashMap<>(DeployFiles.composeEnv(services.path(node), variables));
        env.put("BACKSTOP_QUEUE_PASSWORD_FILE", host(mounts.get(PASSWORD)).toString());
        return ConfigLoader.load(Optional.of(host(mounts.get("/etc/backstop/backstop.yaml"))), env);
    }

    /** A host path in a compose file, relative to the file's directory. */
    private static Path host(String path) {
        return COMPOSE.getParent().resolve(path).normalize();
    }

    /** A compose service's mounts, interpolated with the defaults: container path → named volume or host path. */
    private static Map<String, String> mounts(JsonNode service) {
        Map<String, String> out = new LinkedHashMap<>();
        service.path("volumes").forEach(v -> {
            String[] parts = DeployFiles.composeDefaults(v.asText()).split(":");
            out.put(parts[1], parts[0]);
        });
        return out;
    }
}
