package org.backstopmx.app;

import java.nio.file.Path;
import java.util.Optional;
import org.backstopmx.app.config.ConfigException;
import org.backstopmx.app.config.ConfigLoader;
import org.backstopmx.core.config.BackstopConfig;
import picocli.CommandLine.Option;

/** The {@code --config FILE} option shared by the commands; without it the embedded defaults are used. */
final class ConfigOption {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "YAML configuration file (default: embedded defaults; env BACKSTOP_CONFIG)")
    Path file;

    /** The configuration, or empty after printing every problem to standard error. */
    java.util.Optional<BackstopConfig> loadOrReport() {
        try {
            return java.util.Optional.of(load());
        } catch (ConfigException e) {
            System.err.println("backstop: configuration error:\n" + e.getMessage());
            return java.util.Optional.empty();
        }
    }

    BackstopConfig load() throws ConfigException {
        return ConfigLoader.load(path(), System.getenv());
    }

    /** The file that {@link #load} reads: {@code --config}, else {@code BACKSTOP_CONFIG}; empty for the defaults. */
    Optional<Path> path() {
        Path chosen = file;
        if (chosen == null && System.getenv("BACKSTOP_CONFIG") != null) {
            chosen = Path.of(System.getenv("BACKSTOP_CONFIG"));
        }
        return Optional.ofNullable(chosen);
    }

    /** For messages: which file, or the embedded defaults, and the environment. */
    String describe() {
        return path().map(Path::toString).orElse("embedded defaults") + " with the BACKSTOP_* environment";
    }
}
