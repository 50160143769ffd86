package org.backstopmx.app.config;

import java.util.List;

/**
 * The configuration cannot be used. Carries every problem found, not just the first, so an admin fixes the file in
 * one round; each problem starts with the key it is about ({@code smtp.max-recipients: must be a positive number,
 * got "-1"}). The message is the problems, one per line.
 */
public final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    public ConfigException(List<String> problems) {
        super(String.join("\n", problems));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a ConfigException needs at least one problem");
        }
        this.problems = List.copyOf(problems);
    }

    /** Each problem, in the order found: key first, then what is wrong with it. */
    public List<String> problems() {
        return problems;
    }
}
