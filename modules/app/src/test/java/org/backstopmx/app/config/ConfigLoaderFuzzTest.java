package org.backstopmx.app.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.backstopmx.core.config.BackstopConfig;

/**
 * Coverage-guided fuzzing of the configuration loader: any file and any {@code BACKSTOP_*} variable either give a
 * configuration or a {@link ConfigException} whose every problem names what it is about; never another exception,
 * never an empty message. The input is the file; a first line {@code # BACKSTOP_NAME=value} (a comment to
 * YAML) is also set as an environment variable. The seed inputs kept beside this test include the example configuration, so the fuzzer
 * starts from the whole key set.
 */
class ConfigLoaderFuzzTest {
    private static Path file;

    @FuzzTest(maxDuration = "10s")
    void anyFileGivesAConfigOrNamedProblems(byte[] input) throws IOException {
        Path path = file();
        Files.write(path, input);
        try {
            BackstopConfig config = ConfigLoader.load(Optional.of(path), environment(input), FileCheck.NONE);
            assertThat(config.servedDomains()).isNotEmpty();
        } catch (ConfigException e) {
            assertThat(e.problems()).isNotEmpty();
            for (String problem : e.problems()) {
                int colon = problem.indexOf(": ");
                assertThat(colon).as("a problem that names no key: %s", problem).isPositive();
                assertThat(problem.substring(colon + 2).trim()).as("a problem without a message: %s", problem).isNotEmpty();
            }
        }
    }

    private static Map<String, String> environment(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        int end = text.indexOf('\n');
        String first = end < 0 ? text : text.substring(0, end);
        int equals = first.indexOf('=');
        if (!first.startsWith("# BACKSTOP_") || equals < 0) {
            return Map.of();
        }
        return Map.of(first.substring(2, equals), first.substring(equals + 1));
    }

    private static Path file() throws IOException {
        if (file == null) {
            file = Files.createTempFile("backstop-fuzz", ".yaml");
            file.toFile().deleteOnExit();
        }
        return file;
    }
}
