package org.backstopmx.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Readers for the deployment files under {@code deploy/}, for {@link DeploymentArtefactsTest}: just enough of the
 * Dockerfile, systemd unit, compose and Kubernetes formats to check what the files say, no more.
 */
final class DeployFiles {
    /** The repository: surefire runs in modules/app, two levels below it. */
    static final Path ROOT = Path.of("").toAbsolutePath().resolve("../..").normalize();
    private static final YAMLMapper YAML = new YAMLMapper();

    private DeployFiles() {
    }

    static Path file(String relative) {
        return ROOT.resolve(relative);
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode yaml(Path file) {
        try {
            return YAML.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every document of a multi-document YAML file ({@code ---}). */
    static List<JsonNode> yamlDocuments(Path file) {
        try {
            return YAML.readerFor(JsonNode.class).<JsonNode>readValues(file.toFile()).readAll();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One Dockerfile instruction: keyword in upper case, the rest of the (joined) line. */
    record Instruction(String keyword, String args) {
    }

    /** The instructions, with continuation lines joined and comments dropped. */
    static List<Instruction> dockerfile(Path file) {
        List<Instruction> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : read(file).split("\n", -1)) {
            String trimmed = line.strip();
            if (trimmed.startsWith("#") || (trimmed.isEmpty() && current.length() == 0)) {
                continue;
            }
            if (trimmed.endsWith("\\")) {
                current.append(trimmed, 0, trimmed.length() - 1).append(' ');
                continue;
            }
            current.append(trimmed);
            String joined = current.toString().strip();
            current.setLength(0);
            if (!joined.isEmpty()) {
                String[] parts = joined.split("\\s+", 2);
                out.add(new Instruction(parts[0].toUpperCase(), parts.length > 1 ? parts[1] : ""));
            }
        }
        return out;
    }

    /** The instructions after the last FROM: the image that runs. */
    static List<Instruction> finalStage(List<Instruction> all) {
        int last = 0;
        for (int i = 0; i < all.size(); i++) {
            if (all.get(i).keyword().equals("FROM")) {
                last = i;
            }
        }
        return all.subList(last, all.size());
    }

    /** The arguments of every instruction with this keyword. */
    static List<String> args(List<Instruction> instructions, String keyword) {
        return instructions.stream().filter(i -> i.keyword().equals(keyword)).map(Instruction::args).toList();
    }

    /** {@code ENV A=b C="d e"}: the pairs of every ENV instruction, quotes removed. */
    static Map<String, String> dockerEnv(List<Instruction> instructions) {
        Map<String, String> env = new LinkedHashMap<>();
        Matcher m = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|\\S*)").matcher("");
        for (String args : args(instructions, "ENV")) {
            m.reset(args);
            while (m.find()) {
                env.put(m.group(1), m.group(2).replaceAll("^\"|\"$", ""));
            }
        }
        return env;
    }

    /** A systemd unit: section → key → values, in order (keys may repeat). */
    static Map<String, Map<String, List<String>>> unit(Path file) {
        Map<String, Map<String, List<String>>> sections = new LinkedHashMap<>();
        Map<String, List<String>> section = null;
        for (String line : read(file).split("\n")) {
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#") || trimmed.startsWith(";")) {
                continue;
            }
            if (trimmed.startsWith("[") && trimmed.endsWith("]")) {
                section = sections.computeIfAbsent(trimmed.substring(1, trimmed.length() - 1), s -> new LinkedHashMap<>());
                continue;
            }
            int eq = trimmed.indexOf('=');
            if (section == null || eq < 0) {
                throw new IllegalArgumentException(file + ": not a unit file line: " + line);
            }
            section.computeIfAbsent(trimmed.substring(0, eq).strip(), k -> new ArrayList<>())
                    .add(trimmed.substring(eq + 1).strip());
        }
        return sections;
    }

    /** systemd {@code Environment=} values: {@code A=b} or {@code "A=b c"}, one or more per line. */
    static Map<String, String> unitEnv(List<String> environmentLines) {
        Map<String, String> env = new LinkedHashMap<>();
        Matcher m = Pattern.compile("\"([A-Za-z_][A-Za-z0-9_]*)=([^\"]*)\"|([A-Za-z_][A-Za-z0-9_]*)=(\\S*)").matcher("");
        for (String line : environmentLines) {
            m.reset(line);
            while (m.find()) {
                env.put(m.group(1) != null ? m.group(1) : m.group(3), m.group(1) != null ? m.group(2) : m.group(4));
            }
        }
        return env;
    }

    /** Compose interpolation with no variables set: {@code ${X:-d}} is {@code d}, {@code ${X}} is empty. */
    static String composeDefaults(String value) {
        return value.replaceAll("\\$\\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?}", "$1");
    }

    /** A compose service's {@code environment:} as a map (the mapping form), interpolated with the defaults. */
    static Map<String, String> composeEnv(JsonNode service) {
        return composeEnv(service, Map.of());
    }

    /** The same, interpolated with these variables set: {@code ${X:-d}} is X's value, or d where X is not set. */
    static Map<String, String> composeEnv(JsonNode service, Map<String, String> variables) {
        Map<String, String> env = new LinkedHashMap<>();
        Matcher m = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?}").matcher("");
        service.path("environment").fields().forEachRemaining(e -> env.put(e.getKey(), m.reset(e.getValue().asText())
                .replaceAll(r -> Matcher.quoteReplacement(variables.getOrDefault(r.group(1),
                        r.group(2) == null ? "" : r.group(2))))));
        return env;
    }
}
