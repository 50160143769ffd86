package org.backstopmx.app;

import java.util.concurrent.Callable;
import org.backstopmx.app.config.ConfigException;
import org.backstopmx.core.config.BackstopConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code check-config}: loads the configuration as {@code serve} would (file, then {@code BACKSTOP_*} variables) and
 * prints every problem with its key, or a summary of what would be served.
 */
@Command(name = "check-config", mixinStandardHelpOptions = true,
        description = "Validate the configuration (file and BACKSTOP_* environment); print every problem with its key"
                + " and exit 1, or a summary and exit 0.")
final class CheckConfigCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @Override
    public Integer call() {
        BackstopConfig cfg;
        try {
            cfg = config.load();
        } catch (ConfigException e) {
            System.err.printf("backstop: %d configuration problem%s:%n", e.problems().size(),
                    e.problems().size() == 1 ? "" : "s");
            e.problems().forEach(p -> System.err.println("  " + p));
            return 1;
        }
        System.out.printf("configuration OK: %s%n", config.describe());
        System.out.printf("  hostname %s, SMTP on %s, queue in %s%n", cfg.hostname(), cfg.smtp().listen(),
                cfg.queue().path().toAbsolutePath());
        System.out.printf("  serving %s%n", String.join(", ", cfg.servedDomains().stream().sorted().toList()));
        System.out.printf("  metrics on %s, admin API on %s%n", cfg.metrics().listen(), cfg.admin().listen());
        return 0;
    }
}
