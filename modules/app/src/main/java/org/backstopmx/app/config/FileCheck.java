package org.backstopmx.app.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Whether a file the configuration names can be used. At startup it must exist and be readable, so that a wrong
 * path stops the appliance with the key named instead of failing at the first STARTTLS or RCPT. Tests that load
 * a configuration written for another machine ({@code deploy/backstop.example.yaml}) pass {@link #NONE}.
 */
@FunctionalInterface
interface FileCheck {
    /** The file exists, is a regular file and is readable by this process. */
    FileCheck READABLE = path -> {
        if (!Files.exists(path)) {
            return Optional.of("file not found: " + path);
        }
        if (!Files.isRegularFile(path)) {
            return Optional.of("not a regular file: " + path);
        }
        if (!Files.isReadable(path)) {
            return Optional.of("file not readable: " + path);
        }
        return Optional.empty();
    };

    /** Checks nothing. */
    FileCheck NONE = path -> Optional.empty();

    /** What is wrong with {@code path}, or empty when it can be used. */
    Optional<String> problem(Path path);
}
