package org.backstopmx.app.config;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.backstopmx.core.config.BackstopConfig;

/**
 * Loads the configuration: embedded defaults ← the YAML file, if any ← {@code BACKSTOP_*} environment variables,
 * then validates it. Later sources replace earlier ones key by key, except the served domains, which a source
 * replaces as a whole. Relative paths in the file are relative to the working directory, like the default
 * {@code ./data}.
 *
 * <p>Every problem is collected before anything is thrown, so one run of {@code backstop check-config} lists all of
 * them.
 */
public final class ConfigLoader {
    private ConfigLoader() {
    }

    /**
     * @param file the YAML file, or empty for the embedded defaults
     * @param env  the environment ({@code System.getenv()}); only {@code BACKSTOP_*} variables are read, and of those
     *             {@code BACKSTOP_CONFIG}, {@code BACKSTOP_LOG_LEVEL}, {@code BACKSTOP_OPTS} and {@code BACKSTOP_JAVA_OPTS} are left to the
     *             command line and start scripts
     * @return the validated configuration
     * @throws ConfigException naming every bad key, unknown key or variable, broken rule and missing file
     */
    public static BackstopConfig load(Optional<Path> file, Map<String, String> env) throws ConfigException {
        return load(file, env, FileCheck.READABLE);
    }

    /** As {@link #load(Optional, Map)}, with the check on the files the configuration names replaced. */
    static BackstopConfig load(Optional<Path> file, Map<String, String> env, FileCheck files) throws ConfigException {
        Problems problems = new Problems();
        RawConfig raw = new RawConfig();
        file.ifPresent(f -> YamlSource.read(f, raw, problems));
        EnvironmentSource.read(env, raw, problems);
        BackstopConfig config = new ConfigBuilder(raw, problems).build();
        ConfigValidator.validate(config, problems, files);
        problems.throwIfAny();
        return config;
    }
}
