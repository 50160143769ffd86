package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.backstopmx.app.DeployFiles.args;
import static org.backstopmx.app.DeployFiles.file;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.backstopmx.app.DeployFiles.Instruction;
import org.backstopmx.app.config.ConfigException;
import org.backstopmx.app.config.ConfigKeys;
import org.backstopmx.app.config.ConfigLoader;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.HostPort;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The deployment artefacts agree with each other and with the appliance: the configuration each of them gives
 * Backstop loads, and the ports, paths and probes around it (image, compose stack, Kubernetes manifests, systemd
 * unit) are the ones that configuration uses; each runs Backstop as non-root; every {@code BACKSTOP_*} variable they
 * set is one the loader knows. The image and the compose stack also run for real in
 * {@code deploy/container/smoke-test.sh}; the Kubernetes manifests and the unit are checked only here.
 *
 * <p>Over 400 lines on purpose: each check compares one artefact with the others (the image's paths with its entry
 * point, the manifests with the image's configuration), so they share the parsed files and the loader.
 */
class DeploymentArtefactsTest {
    static final Path DOCKERFILE = file("deploy/container/Dockerfile");
    static final Path IMAGE_CONFIG = file("deploy/container/backstop.yaml");
    static final Path ENTRYPOINT = file("deploy/container/backstop");
    static final Path COMPOSE = file("deploy/compose.yaml");
    static final Path K8S = file("deploy/k8s");
    static final Path UNIT = file("deploy/systemd/backstop.service");
    static final List<Path> ARTEFACTS = List.of(DOCKERFILE, IMAGE_CONFIG, ENTRYPOINT, COMPOSE,
            file("deploy/compose/backstop.yaml"), file("deploy/compose/cluster.yaml"), file("deploy/container/smoke-test.sh"),
            file("deploy/container/smoke-cluster.sh"), K8S.resolve("configmap.yaml"),
            K8S.resolve("statefulset.yaml"), K8S.resolve("service.yaml"), UNIT);
    private static final Pattern VARIABLE = Pattern.compile("\\bBACKSTOP_[A-Z][A-Z0-9_]*\\b");

    @TempDir
    Path tmp;

    // --- the image ---

    @Test
    void theImageBuildsOnBasesGivenAsArgumentsAndBringsItsOwnJavaWhereTheBaseHasNone() {
        List<Instruction> all = DeployFiles.dockerfile(DOCKERFILE);
        List<String> from = args(all, "FROM");

        assertThat(all.get(0).keyword()).isEqualTo("ARG");
        assertThat(all.subList(0, all.indexOf(all.stream().filter(i -> i.keyword().equals("FROM")).findFirst().orElseThrow())))
                .extracting(Instruction::args)
                .anySatisfy(a -> assertThat(a).matches("BASE_IMAGE=\\S+"))
                .anySatisfy(a -> assertThat(a).matches("BUILD_IMAGE=\\S+"));
        assertThat(from).hasSizeGreaterThanOrEqualTo(2);
        assertThat(from.get(0)).isEqualTo("${BUILD_IMAGE} AS build");
        assertThat(from.get(from.size() - 1)).isEqualTo("${BASE_IMAGE}");
        assertThat(String.join("\n", args(DeployFiles.finalStage(all), "RUN")))
                .contains("command -v java").contains("openjdk-17-jre-headless").contains("command -v curl");
        assertThat(args(all, "RUN")).anySatisfy(r -> assertThat(r).contains("-DskipTests package"));
        // the dependency layer is built from the poms alone: every module's must be there
        Matcher module = Pattern.compile("<module>([^<]+)</module>").matcher(DeployFiles.read(file("pom.xml")));
        while (module.find()) {
            assertThat(args(all, "COPY")).contains(module.group(1) + "/pom.xml " + module.group(1) + "/");
        }
    }

    @Test
    void theImageRunsAsANonRootUserWithTheQueueOnAVolume() throws Exception {
        List<Instruction> image = DeployFiles.finalStage(DeployFiles.dockerfile(DOCKERFILE));
        BackstopConfig config = imageConfig();
        String queue = config.queue().path().toString();

        assertThat(args(image, "USER")).hasSize(1);
        String uid = args(image, "USER").get(0).split(":")[0];
        assertThat(uid).matches("[0-9]+").isNotEqualTo("0");
        assertThat(args(image, "VOLUME")).containsExactly("[\"" + queue + "\"]");
        assertThat(String.join("\n", args(image, "RUN"))).contains("chown " + uid + ":").contains(queue);
        assertThat(args(image, "WORKDIR")).last().isEqualTo(queue);
    }

    @Test
    void theImageListensWhereItsHealthcheckAndExposeSayAndStopsOnSigterm() throws Exception {
        List<Instruction> image = DeployFiles.finalStage(DeployFiles.dockerfile(DOCKERFILE));
        BackstopConfig config = imageConfig();

        assertThat(config.smtp().listen()).isEqualTo(new HostPort("0.0.0.0", 25));
        assertThat(config.metrics().listen()).isEqualTo(new HostPort("0.0.0.0", 9465));
        assertThat(config.admin().listen().host()).isEqualTo("127.0.0.1");
        assertThat(args(image, "EXPOSE")).containsExactly(config.smtp().listen().port() + " " + config.metrics().listen().port());
        assertThat(args(image, "HEALTHCHECK")).singleElement().asString()
                .contains("CMD [").contains("\"http://127.0.0.1:" + config.metrics().listen().port() + "/health/ready\"");
        assertThat(args(image, "STOPSIGNAL")).containsExactly("SIGTERM");
        // exec form, and the script execs the JVM: SIGTERM reaches Java, not a shell
        assertThat(args(image, "ENTRYPOINT")).containsExactly("[\"/usr/local/bin/backstop\"]");
        assertThat(args(image, "COPY")).contains("deploy/container/backstop /usr/local/bin/backstop");
        assertThat(DeployFiles.read(ENTRYPOINT).lines().filter(l -> !l.startsWith("#") && !l.isBlank()).reduce((a, b) -> b))
                .hasValueSatisfying(last -> assertThat(last).startsWith("exec java "));
    }

    @Test
    void theImageWritesTheClassArchiveWithTheJarWhereItRunsAndTheEntryPointReadsIt() {
        List<Instruction> image = DeployFiles.finalStage(DeployFiles.dockerfile(DOCKERFILE));
        String script = DeployFiles.read(ENTRYPOINT);
        String jar = value(script, "jar");
        String archive = value(script, "archive");
        List<String> steps = image.stream().map(i -> i.keyword() + " " + i.args().replaceAll("\\s+", " ")).toList();
        int copy = steps.indexOf("COPY --from=build /backstop.jar " + jar);
        int train = steps.indexOf("RUN java -XX:ArchiveClassesAtExit=" + archive
                + " -Xlog:cds=off -Xlog:cds+dynamic=off -jar " + jar + " train");

        // made by the image's own JVM, with the jar already at the path the archive records
        assertThat(copy).isNotNegative();
        assertThat(train).as(String.join("\n", steps)).isGreaterThan(copy);
        assertThat(jar).isEqualTo("/opt/backstop/backstop.jar");
        assertThat(archive).isEqualTo("/opt/backstop/backstop.jsa");
    }

    @Test
    void theEntryPointPassesTheClassArchiveOnlyWhenItIsThere() throws Exception {
        Path home = Files.createDirectories(tmp.resolve("opt"));
        Path script = Files.writeString(tmp.resolve("backstop"),
                DeployFiles.read(ENTRYPOINT).replace("/opt/backstop/", home + "/"));
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Path fakeJava = Files.writeString(bin.resolve("java"), "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done\n");
        Files.setPosixFilePermissions(fakeJava, PosixFilePermissions.fromString("rwxr-xr-x"));

        assertThat(runEntryPoint(script, bin))
                .containsExactly("-Xmx64m", "-XX:+ExitOnOutOfMemoryError", "-jar", home + "/backstop.jar", "serve");
        Files.writeString(home.resolve("backstop.jsa"), "an archive");
        assertThat(runEntryPoint(script, bin)).containsExactly("-XX:SharedArchiveFile=" + home + "/backstop.jsa",
                "-Xshare:auto", "-Xmx64m", "-XX:+ExitOnOutOfMemoryError", "-jar", home + "/backstop.jar", "serve");
    }

    private static List<String> runEntryPoint(Path script, Path bin) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("sh", script.toString(), "serve").redirectErrorStream(true);
        pb.environment().put("PATH", bin + ":" + pb.environment().get("PATH"));
        pb.environment().put("BACKSTOP_JAVA_OPTS", "-Xmx64m -XX:+ExitOnOutOfMemoryError");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        return out.lines().toList();
    }

    /** {@code NAME=value} in a shell script. */
    private static String value(String script, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + "=(\\S+)$").matcher(script);
        assertThat(m.find()).as("%s= in the script", name).isTrue();
        return m.group(1);
    }

    @Test
    void theImageReadsTheConfigurationItShips() {
        List<Instruction> image = DeployFiles.finalStage(DeployFiles.dockerfile(DOCKERFILE));
        String configPath = DeployFiles.dockerEnv(image).get("BACKSTOP_CONFIG");

        assertThat(args(image, "COPY")).contains("deploy/container/backstop.yaml " + configPath);
        assertThat(DeployFiles.read(file(".dockerignore")).lines()).contains("**/target", ".git");
    }

    // --- the compose stack ---

    @Test
    void composeRunsBackstopAndItsPrimaryWithMonitoringInAProfile() {
        JsonNode compose = DeployFiles.yaml(COMPOSE);
        JsonNode services = compose.path("services");

        assertThat(compose.path("version").asText()).isEqualTo("2.4");
        assertThat(fieldNames(services)).containsExactlyInAnyOrder("backstop", "primary", "prometheus", "grafana",
                "postgres", "backstop-a", "backstop-b");
        assertThat(services.path("backstop").has("profiles")).isFalse();
        assertThat(services.path("primary").has("profiles")).isFalse();
        assertThat(services.path("prometheus").path("profiles").get(0).asText()).isEqualTo("monitoring");
        assertThat(services.path("grafana").path("profiles").get(0).asText()).isEqualTo("monitoring");

        JsonNode build = services.path("backstop").path("build");
        assertThat(COMPOSE.getParent().resolve(build.path("context").asText()).resolve(build.path("dockerfile").asText()).normalize())
                .isEqualTo(DOCKERFILE);
        assertThat(fieldNames(build.path("args"))).contains("BASE_IMAGE", "BUILD_IMAGE");
        Path primary = COMPOSE.getParent().resolve(services.path("primary").path("build").path("context").asText());
        assertThat(DeployFiles.read(primary.resolve("Dockerfile"))).contains("ARG BASE_IMAGE=", "FROM ${BASE_IMAGE}");
        assertThat(fieldNames(services.path("primary").path("build").path("args"))).contains("BASE_IMAGE");
    }

    @Test
    void composeGivesBackstopARouteToThePrimaryAndPublishesItsPorts() throws Exception {
        JsonNode services = DeployFiles.yaml(COMPOSE).path("services");
        JsonNode backstop = services.path("backstop");
        Map<String, String> mounts = new LinkedHashMap<>();
        backstop.path("volumes").forEach(v -> {
            String[] parts = v.asText().split(":");
            mounts.put(parts[1], parts[0]);
        });
        Path configFile = COMPOSE.getParent().resolve(mounts.get("/etc/backstop/backstop.yaml")).normalize();

        BackstopConfig config = load(configFile, DeployFiles.composeEnv(backstop));

        assertThat(config.domains()).isNotEmpty();
        config.domains().forEach((name, domain) -> {
            assertThat(domain.route()).as("route of %s", name).isNotNull();
            assertThat(fieldNames(services)).contains(domain.route().host());
            assertThat(DeployFiles.read(COMPOSE.getParent().resolve("compose/primary/main.cf")))
                    .containsPattern("(?m)^virtual_mailbox_domains = .*\\b" + Pattern.quote(name) + "\\b");
        });
        assertThat(mounts.get(config.queue().path().toString())).isEqualTo("queue");
        assertThat(fieldNames(DeployFiles.yaml(COMPOSE).path("volumes"))).contains("queue");
        assertThat(StreamSupport.stream(backstop.path("ports").spliterator(), false)
                .map(p -> DeployFiles.composeDefaults(p.asText())).map(p -> p.substring(p.lastIndexOf(':') + 1)))
                .containsExactlyInAnyOrder(String.valueOf(config.smtp().listen().port()),
                        String.valueOf(config.metrics().listen().port()));
        assertThat(backstop.path("stop_signal").asText()).isEqualTo("SIGTERM");
    }

    @Test
    void composeMountsPrometheusAndGrafanaWhereTheirFilesExpectThem() {
        JsonNode services = DeployFiles.yaml(COMPOSE).path("services");
        Map<String, String> prometheus = mounts(services.path("prometheus"));
        Map<String, String> grafana = mounts(services.path("grafana"));
        String dashboards = DeployFiles.yaml(file("grafana/provisioning/dashboards/backstop.yml"))
                .path("providers").get(0).path("options").path("path").asText();

        assertThat(prometheus).containsEntry("/etc/prometheus", "deploy/prometheus");
        assertThat(DeployFiles.read(file("deploy/prometheus/prometheus.yml"))).contains("'backstop:9465'");
        assertThat(grafana).containsEntry("/etc/grafana/provisioning/datasources", "grafana/provisioning/datasources")
                .containsEntry("/etc/grafana/provisioning/dashboards", "grafana/provisioning/dashboards")
                .containsEntry(dashboards, "grafana/dashboards");
    }

    // --- Kubernetes ---

    @Test
    void theStatefulSetGivesBackstopItsConfigurationQueueClaimAndToken() throws Exception {
        JsonNode set = DeployFiles.yaml(K8S.resolve("statefulset.yaml"));
        JsonNode pod = set.path("spec").path("template").path("spec");
        JsonNode container = pod.path("containers").get(0);
        Map<String, String> env = k8sEnv(container);
        Map<String, String> mounts = new HashMap<>();
        container.path("volumeMounts").forEach(m -> mounts.put(m.path("name").asText(), m.path("mountPath").asText()));
        JsonNode volumes = byName(pod.path("volumes"));
        JsonNode configMap = DeployFiles.yaml(K8S.resolve("configmap.yaml"));
        String configName = volumes.path("config").path("configMap").path("name").asText();
        Path token = Files.writeString(tmp.resolve("token"), "secret\n");
        env.put(ConfigKeys.envName("admin.token-file"), token.toString()); // the Secret is not mounted here

        BackstopConfig config = load(configMap.path("data").path("backstop.yaml").asText(), env);

        assertThat(configMap.path("metadata").path("name").asText()).isEqualTo(configName);
        assertThat(env.get("BACKSTOP_CONFIG")).isEqualTo(mounts.get("config") + "/backstop.yaml");
        String claim = set.path("spec").path("volumeClaimTemplates").get(0).path("metadata").path("name").asText();
        assertThat(mounts.get(claim)).isEqualTo(config.queue().path().toString());
        assertThat(Path.of(configMap.path("data").path("backstop.yaml").asText()
                .replaceAll("(?s).*token-file: (\\S+).*", "$1")).getParent().toString())
                .isEqualTo(mounts.get("admin-token"));
        assertThat(volumes.path("admin-token").path("secret").path("secretName").asText()).isEqualTo("backstop-admin");
    }

    @Test
    void thePodListensOnTheContainerPortsAndIsProbedOnTheHealthEndpoints() throws Exception {
        JsonNode pod = DeployFiles.yaml(K8S.resolve("statefulset.yaml")).path("spec").path("template");
        JsonNode container = pod.path("spec").path("containers").get(0);
        JsonNode ports = byName(container.path("ports"));
        BackstopConfig config = load(DeployFiles.yaml(K8S.resolve("configmap.yaml")).path("data").path("backstop.yaml").asText(),
                Map.of(ConfigKeys.envName("admin.token-file"), Files.writeString(tmp.resolve("token"), "t").toString()));

        assertThat(ports.path("smtp").path("containerPort").asInt()).isEqualTo(config.smtp().listen().port()).isEqualTo(25);
        assertThat(ports.path("metrics").path("containerPort").asInt()).isEqualTo(config.metrics().listen().port()).isEqualTo(9465);
        assertThat(config.metrics().listen().host()).isEqualTo("0.0.0.0");
        for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
            assertThat(container.path(probe).path("httpGet").path("port").asText()).as(probe).isEqualTo("metrics");
        }
        assertThat(container.path("livenessProbe").path("httpGet").path("path").asText()).isEqualTo("/health/live");
        assertThat(container.path("readinessProbe").path("httpGet").path("path").asText()).isEqualTo("/health/ready");
        assertThat(pod.path("metadata").path("annotations").path("prometheus.io/port").asText()).isEqualTo("9465");
        for (String kind : List.of("requests", "limits")) {
            assertThat(fieldNames(container.path("resources").path(kind))).as(kind).contains("cpu", "memory");
        }
    }

    @Test
    void theServicesReachThePodsNamedPortsAndTheServiceMonitorItsMetrics() {
        JsonNode set = DeployFiles.yaml(K8S.resolve("statefulset.yaml"));
        JsonNode podLabels = set.path("spec").path("template").path("metadata").path("labels");
        Map<String, JsonNode> services = new HashMap<>();
        DeployFiles.yamlDocuments(K8S.resolve("service.yaml")).forEach(s -> services.put(s.path("metadata").path("name").asText(), s));
        JsonNode monitor = DeployFiles.yaml(K8S.resolve("servicemonitor.yaml"));

        assertThat(services).containsKeys("backstop", set.path("spec").path("serviceName").asText());
        assertThat(services.get(set.path("spec").path("serviceName").asText()).path("spec").path("clusterIP").asText()).isEqualTo("None");
        services.values().forEach(s -> assertThat(s.path("spec").path("selector")).isEqualTo(podLabels));
        JsonNode smtp = byName(services.get("backstop").path("spec").path("ports")).path("smtp");
        assertThat(smtp.path("port").asInt()).isEqualTo(25);
        assertThat(smtp.path("targetPort").asText()).isEqualTo("smtp");
        assertThat(services.get("backstop").path("spec").path("externalTrafficPolicy").asText()).isEqualTo("Local");
        String monitorPort = monitor.path("spec").path("endpoints").get(0).path("port").asText();
        assertThat(services.values()).anySatisfy(s -> {
            assertThat(byName(s.path("spec").path("ports")).path(monitorPort).path("targetPort").asText()).isEqualTo("metrics");
            monitor.path("spec").path("selector").path("matchLabels").fields().forEachRemaining(l ->
                    assertThat(s.path("metadata").path("labels").path(l.getKey()).asText()).isEqualTo(l.getValue().asText()));
        });
        assertThat(monitor.path("spec").path("endpoints").get(0).path("path").asText()).isEqualTo("/metrics");
        DeployFiles.yaml(K8S.resolve("kustomization.yaml")).path("resources")
                .forEach(r -> assertThat(K8S.resolve(r.asText())).isRegularFile());
    }

    @Test
    void thePodRunsAsTheImagesNonRootUserWithoutPrivileges() {
        JsonNode pod = DeployFiles.yaml(K8S.resolve("statefulset.yaml")).path("spec").path("template").path("spec");
        JsonNode security = pod.path("securityContext");
        JsonNode container = pod.path("containers").get(0).path("securityContext");
        String imageUid = args(DeployFiles.finalStage(DeployFiles.dockerfile(DOCKERFILE)), "USER").get(0).split(":")[0];

        assertThat(security.path("runAsNonRoot").asBoolean()).isTrue();
        assertThat(security.path("runAsUser").asText()).isEqualTo(imageUid).isNotEqualTo("0");
        assertThat(security.path("fsGroup").asText()).isNotEqualTo("0").isNotEmpty();
        // port 25 below 1024 as non-root: the unprivileged port range must start at 0 in the pod
        assertThat(byName(security.path("sysctls")).path("net.ipv4.ip_unprivileged_port_start").path("value").asText()).isEqualTo("0");
        assertThat(container.path("allowPrivilegeEscalation").isBoolean()).isTrue();
        assertThat(container.path("allowPrivilegeEscalation").asBoolean()).isFalse();
        assertThat(container.path("capabilities").path("drop").get(0).asText()).isEqualTo("ALL");
        assertThat(container.path("readOnlyRootFilesystem").asBoolean()).isTrue();
    }

    // --- systemd ---

    @Test
    void theUnitIsSandboxedWithOnlyThePortCapability() {
        Map<String, List<String>> service = DeployFiles.unit(UNIT).get("Service");

        assertThat(service.get("DynamicUser")).containsExactly("yes");
        assertThat(service.get("NoNewPrivileges")).containsExactly("yes");
        assertThat(service.get("ProtectSystem")).containsExactly("strict");
        assertThat(service.get("ProtectHome")).containsExactly("yes");
        assertThat(service.get("PrivateTmp")).containsExactly("yes");
        assertThat(service.get("AmbientCapabilities")).containsExactly("CAP_NET_BIND_SERVICE");
        assertThat(service.get("CapabilityBoundingSet")).containsExactly("CAP_NET_BIND_SERVICE");
        assertThat(service.get("RestrictAddressFamilies")).singleElement().asString()
                .contains("AF_INET", "AF_INET6").doesNotContain("AF_PACKET", "AF_NETLINK");
        assertThat(service).doesNotContainKey("MemoryDenyWriteExecute"); // the JIT needs W+X pages
        assertThat(service).containsKeys("SystemCallFilter", "ProtectKernelTunables", "RestrictNamespaces");
    }

    @Test
    void theUnitRunsTheJarOnItsStateDirectoryAndStopsOnSigterm() {
        Map<String, List<String>> service = DeployFiles.unit(UNIT).get("Service");
        Map<String, String> env = DeployFiles.unitEnv(service.get("Environment"));

        assertThat(service.get("ExecStart")).singleElement().asString().startsWith("/usr/bin/java ")
                .contains(" -XX:SharedArchiveFile=/opt/backstop/backstop.jsa -Xshare:auto ")
                .endsWith(" -jar /opt/backstop/backstop.jar serve --config /etc/backstop/backstop.yaml");
        // the install steps at the top write that archive for that jar
        assertThat(DeployFiles.read(UNIT)).contains(
                "java -XX:ArchiveClassesAtExit=/opt/backstop/backstop.jsa -jar /opt/backstop/backstop.jar train");
        assertThat(env.get(ConfigKeys.envName("queue.path"))).isEqualTo("%S/" + service.get("StateDirectory").get(0));
        assertThat(service.get("KillSignal")).containsExactly("SIGTERM");
        assertThat(service.get("TimeoutStopSec")).singleElement().asString().matches("[0-9]+s?");
        assertThat(service.get("ExecReload")).singleElement().asString().contains("-HUP").contains("$MAINPID");
        assertThat(DeployFiles.unit(UNIT).get("Install").get("WantedBy")).containsExactly("multi-user.target");
    }

    // --- environment variables, CI ---

    @Test
    void everyBackstopVariableTheArtefactsUseIsKnownToTheLoader() {
        Set<String> used = new TreeSet<>();
        for (Path f : ARTEFACTS) {
            Matcher m = VARIABLE.matcher(DeployFiles.read(f));
            while (m.find()) {
                used.add(m.group());
            }
        }
        Predicate<String> known = knownVariable();

        assertThat(used).contains("BACKSTOP_CONFIG", ConfigKeys.envName("probe.interval"), ConfigKeys.envName("queue.path"));
        assertThat(used).allSatisfy(v -> assertThat(known.test(v)).as("%s is a variable Backstop reads", v).isTrue());
        // and the check can fail: a misspelt key is not known
        assertThat(known.test("BACKSTOP_SMTP_LISTENN")).isFalse();
        assertThat(known.test("BACKSTOP_PROBE_INTERVALS")).isFalse();
    }

    @Test
    void ciRunsTheSmokeTestAfterTheTestSuite() {
        List<String> ci = DeployFiles.read(file(".ci/run")).lines().filter(l -> !l.startsWith("#")).toList();
        int verify = ci.indexOf("mvn -B verify");
        int smoke = ci.indexOf("deploy/container/smoke-test.sh");

        assertThat(verify).isNotNegative();
        assertThat(smoke).isGreaterThan(verify);
        assertThat(file("deploy/container/smoke-test.sh")).isExecutable();
    }

    /**
     * The environment name of a key in {@link ConfigKeys#all()}, or a name the loader accepts without calling it
     * unknown ({@code BACKSTOP_DOMAINS}, {@code BACKSTOP_CONFIG}, {@code BACKSTOP_JAVA_OPTS}, ...).
     */
    private Predicate<String> knownVariable() {
        Set<String> keys = ConfigKeys.all().stream().filter(k -> !k.contains("<")).map(ConfigKeys::envName)
                .collect(Collectors.toSet());
        return name -> {
            if (keys.contains(name)) {
                return true;
            }
            try {
                ConfigLoader.load(Optional.empty(), Map.of(name, "example.org"));
                return true;
            } catch (ConfigException e) {
                return e.problems().stream().noneMatch(p -> p.startsWith(name + ": unknown"));
            }
        };
    }

    private BackstopConfig imageConfig() throws Exception {
        Map<String, String> env = DeployFiles.dockerEnv(DeployFiles.finalStage(DeployFiles.dockerfile(DOCKERFILE)));
        return load(IMAGE_CONFIG, env);
    }

    private static BackstopConfig load(Path file, Map<String, String> env) throws ConfigException {
        return ConfigLoader.load(Optional.of(file), env);
    }

    /** Loads YAML text (a ConfigMap's file), with the real checks on the files it names. */
    private BackstopConfig load(String yaml, Map<String, String> env) throws Exception {
        return load(Files.writeString(tmp.resolve("backstop.yaml"), yaml), env);
    }

    private static Map<String, String> k8sEnv(JsonNode container) {
        Map<String, String> env = new LinkedHashMap<>();
        container.path("env").forEach(e -> env.put(e.path("name").asText(), e.path("value").asText()));
        return env;
    }

    /** A list of objects with a {@code name}, as an object keyed by name. */
    private static JsonNode byName(JsonNode list) {
        com.fasterxml.jackson.databind.node.ObjectNode out = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        list.forEach(item -> out.set(item.path("name").asText(), item));
        return out;
    }

    /** A compose service's bind mounts: container path → host path relative to the repository. */
    private static Map<String, String> mounts(JsonNode service) {
        Map<String, String> out = new LinkedHashMap<>();
        service.path("volumes").forEach(v -> {
            String[] parts = v.asText().split(":");
            out.put(parts[1], DeployFiles.ROOT.relativize(COMPOSE.getParent().resolve(parts[0]).normalize()).toString());
        });
        return out;
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
