package org.backstopmx.app.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.backstopmx.app.config.RawConfig.RawDomain;

/**
 * Reads the YAML file into a {@link RawConfig}, walking the tree by {@link ConfigKeys}: a key that is neither a known
 * key nor a section holding known keys is reported ({@code smtp.lisen: unknown key}), never silently ignored, because
 * a misspelt limit that quietly keeps its default is the worst kind of configuration bug. Values stay text here; the
 * units are parsed later, the same way for the file and the environment.
 */
final class YamlSource {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

    private static final Pattern DUPLICATE = Pattern.compile("Duplicate field '([^']*)'");
    private static final Pattern MARK = Pattern.compile("^\\s*in '[^']*', line (\\d+), column (\\d+):");

    private final RawConfig into;
    private final Problems problems;

    private YamlSource(RawConfig into, Problems problems) {
        this.into = into;
        this.problems = problems;
    }

    /** Reads {@code file} into {@code into}; a missing or malformed file is one problem, keyed by its path. */
    static void read(Path file, RawConfig into, Problems problems) {
        JsonNode root;
        try (InputStream in = Files.newInputStream(file)) {
            root = YAML.readTree(in);
        } catch (NoSuchFileException e) {
            problems.add(file.toString(), "configuration file not found");
            return;
        } catch (AccessDeniedException e) {
            problems.add(file.toString(), "configuration file not readable");
            return;
        } catch (JsonProcessingException e) {
            problems.add(file.toString(), syntaxError(e));
            return;
        } catch (IOException e) {
            problems.add(file.toString(), "cannot read configuration file: " + e.getMessage());
            return;
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return; // an empty file: all defaults
        }
        if (!root.isObject()) {
            problems.add(file.toString(), "expected a mapping of keys at the top level (hostname:, smtp:, domains:, ...)");
            return;
        }
        new YamlSource(into, problems).section("", root);
    }

    private void section(String prefix, JsonNode node) {
        node.properties().forEach(field -> {
            String key = prefix.isEmpty() ? field.getKey() : prefix + "." + field.getKey();
            JsonNode value = field.getValue();
            if (key.equals(ConfigKeys.DOMAINS)) {
                domains(value);
            } else if (key.equals(ConfigKeys.ROUTES)) {
                routes(value);
            } else if (ConfigKeys.FIXED.contains(key)) {
                put(into.values, key, leaf(key, value, ConfigKeys.LISTS.contains(key)));
            } else if (ConfigKeys.isSection(key)) {
                if (value.isObject()) {
                    section(key, value);
                } else if (!value.isNull()) {
                    problems.add(key, "expected a mapping of keys under it, got " + describe(value));
                }
            } else {
                unknown(key, ConfigKeys.all());
            }
        });
    }

    /** {@code domains:} as a mapping {@code name: {settings}} (settings may be empty), or as a list of names. */
    private void domains(JsonNode node) {
        Map<String, RawDomain> domains = new LinkedHashMap<>();
        into.domains = domains;
        if (node.isArray()) {
            for (JsonNode item : node) {
                if (item.isValueNode() && !item.isNull()) {
                    domains.put(item.asText(), new RawDomain(item.asText(), null, Map.of()));
                } else {
                    problems.add(ConfigKeys.DOMAINS, "expected domain names in the list, got " + describe(item));
                }
            }
        } else if (node.isObject()) {
            node.properties().forEach(d -> domains.put(d.getKey(), domain(d.getKey(), d.getValue())));
        } else if (!node.isNull()) {
            problems.add(ConfigKeys.DOMAINS, "expected a mapping of domain names, got " + describe(node));
        }
    }

    private RawDomain domain(String name, JsonNode node) {
        String prefix = ConfigKeys.DOMAINS + "." + name;
        Map<String, RawValue> settings = new HashMap<>();
        if (node.isObject()) {
            node.properties().forEach(s -> {
                String key = prefix + "." + s.getKey();
                if (ConfigKeys.DOMAIN_SETTINGS.contains(s.getKey())) {
                    put(settings, s.getKey(), leaf(key, s.getValue(), ConfigKeys.DOMAIN_LISTS.contains(s.getKey())));
                } else {
                    unknown(key, ConfigKeys.DOMAIN_SETTINGS.stream().map(k -> prefix + "." + k).toList());
                }
            });
        } else if (!node.isNull()) {
            problems.add(prefix, "expected the domain's settings (" + String.join(", ", ConfigKeys.DOMAIN_SETTINGS)
                    + ") or nothing, got " + describe(node));
        }
        return new RawDomain(name, null, settings);
    }

    private void routes(JsonNode node) {
        if (node.isObject()) {
            node.properties().forEach(r -> {
                String key = ConfigKeys.ROUTES + "." + r.getKey();
                put(into.routes, r.getKey(), leaf(key, r.getValue(), false));
            });
        } else if (!node.isNull()) {
            problems.add(ConfigKeys.ROUTES, "expected a mapping of domain to host:port, got " + describe(node));
        }
    }

    /** A value: text for a scalar key; for a list key a YAML sequence, or a comma-separated string. Null after a
     * problem, so that the key keeps its default and is not reported a second time as empty. */
    private RawValue leaf(String key, JsonNode node, boolean list) {
        if (node.isNull()) {
            return RawValue.scalar(key, null, null);
        }
        if (list && node.isArray()) {
            List<String> items = new ArrayList<>();
            for (JsonNode item : node) {
                if (item.isValueNode() && !item.isNull()) {
                    items.add(item.asText().trim());
                } else if (item.isObject() && ConfigKeys.MAPPING_LISTS.contains(key)) {
                    items.add(mappingItem(key, item));
                } else {
                    problems.add(key, "expected single values in the list, got " + describe(item));
                }
            }
            return RawValue.list(key, null, items);
        }
        if (!node.isValueNode()) {
            problems.add(key, "expected a single value, got " + describe(node)
                    + (node.isArray() ? " (quote IPv6 addresses: \"[::1]:25\")" : ""));
            return null;
        }
        return list ? RawValue.commaList(key, null, node.asText()) : RawValue.scalar(key, null, node.asText());
    }

    /**
     * A mapping in a list ({@code {zone: bl.example, weight: 2}}) as the text its parser reads:
     * {@code zone=bl.example weight=2}. Nested mappings and lists, which no such item takes, are reported here.
     */
    private String mappingItem(String key, JsonNode item) {
        StringBuilder text = new StringBuilder();
        item.properties().forEach(f -> {
            if (!f.getValue().isValueNode() || f.getValue().isNull()) {
                problems.add(key, "expected a single value for " + f.getKey() + ", got " + describe(f.getValue()));
                return;
            }
            text.append(text.length() == 0 ? "" : " ").append(f.getKey()).append('=').append(f.getValue().asText().trim());
        });
        return text.toString();
    }

    private static void put(Map<String, RawValue> map, String name, RawValue value) {
        if (value != null) {
            map.put(name, value);
        }
    }

    private void unknown(String key, List<String> known) {
        problems.add(key, "unknown key" + ConfigKeys.closest(key, known).map(k -> " (did you mean " + k + "?)").orElse(""));
    }

    private static String describe(JsonNode node) {
        if (node.isArray()) {
            return "a list";
        }
        if (node.isObject()) {
            return "a mapping";
        }
        return node.isNull() ? "nothing" : Units.quote(node.asText());
    }

    /**
     * One line for a YAML syntax error. SnakeYAML's message quotes the offending text under a {@code ^} on lines of
     * their own, after {@code in 'reader', line N, column M:}; those lines go, and the last such position (the
     * problem, rather than the context) is kept.
     */
    static String syntaxError(JsonProcessingException e) {
        Matcher duplicate = DUPLICATE.matcher(String.valueOf(e.getOriginalMessage()));
        String position = e.getLocation() == null ? ""
                : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
        if (duplicate.find()) {
            return "key \"" + duplicate.group(1) + "\" appears twice in the same mapping" + position;
        }
        StringBuilder text = new StringBuilder();
        String[] lines = String.valueOf(e.getOriginalMessage()).split("\\R");
        for (int i = 0; i < lines.length; i++) {
            Matcher mark = MARK.matcher(lines[i]);
            if (mark.find()) {
                position = " (line " + mark.group(1) + ", column " + mark.group(2) + ")";
                i += 2; // the quoted line and its caret
            } else if (!lines[i].isBlank()) {
                text.append(text.length() == 0 ? "" : ": ").append(lines[i].trim());
            }
        }
        return "not valid YAML: " + text + position;
    }
}
