package org.backstopmx.app.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.backstopmx.core.config.BackstopConfig;

/** Loading helpers for the tests: YAML text in, records or problem lines out. */
final class Configs {
    private Configs() {
    }

    /** Loads {@code yaml} (written to a file in {@code dir}) and {@code env}, with the real file checks. */
    static BackstopConfig load(Path dir, String yaml, Map<String, String> env) throws ConfigException {
        return ConfigLoader.load(Optional.of(write(dir, yaml)), env);
    }

    static BackstopConfig load(Path dir, String yaml) throws ConfigException {
        return load(dir, yaml, Map.of());
    }

    /** The problems that loading reports; fails the test when loading succeeds. */
    static List<String> problems(Path dir, String yaml, Map<String, String> env) {
        Path file = yaml == null ? null : write(dir, yaml);
        try {
            ConfigLoader.load(Optional.ofNullable(file), env);
        } catch (ConfigException e) {
            return e.problems();
        }
        throw new AssertionError("expected a ConfigException, but the configuration loaded:\n" + yaml);
    }

    static List<String> problems(Path dir, String yaml) {
        return problems(dir, yaml, Map.of());
    }

    static Path write(Path dir, String yaml) {
        try {
            return Files.writeString(Files.createTempFile(dir, "backstop", ".yaml"), yaml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A file of the repository: surefire runs in modules/app, two levels below the root. */
    static Path repoFile(String path) {
        return Path.of("").toAbsolutePath().resolve("../..").resolve(path).normalize();
    }
}
