package org.backstopmx.app;

import java.util.List;
import java.util.concurrent.Callable;
import org.backstopmx.app.config.ConfigException;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.forwarder.DnsjavaMxResolver;
import org.backstopmx.forwarder.MxSanityCheck;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code check-config}: loads the configuration as {@code serve} would (file, then {@code BACKSTOP_*} variables) and
 * prints every problem with its key, or a summary of what would be served; with {@code --dns}, also the MX sanity
 * check of every served domain ({@link MxSanityCheck}) through {@code dns.server}.
 */
@Command(name = "check-config", mixinStandardHelpOptions = true,
        description = "Validate the configuration (file and BACKSTOP_* environment); print every problem with its key"
                + " and exit 1, or a summary and exit 0. With --dns, also check that each served domain's MX records"
                + " make this host its backup MX (exit 1 if one does not).")
final class CheckConfigCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @Option(names = "--dns", description = "Also check each served domain's MX records through dns.server.")
    boolean dns;

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
        return dns ? checkMx(cfg) : 0;
    }

    private static int checkMx(BackstopConfig cfg) {
        List<MxSanityCheck.Result> results = MxSanityCheck.of(cfg, new DnsjavaMxResolver(cfg.dns()))
                .checkAll(cfg.servedDomains().stream().sorted().toList());
        boolean allOk = true;
        for (MxSanityCheck.Result r : results) {
            System.out.printf("  MX %s: %s: %s%n", r.domain(), r.verdict().label(), r.detail());
            allOk &= r.ok();
        }
        if (!allOk) {
            System.err.println("backstop: the MX records of a served domain do not make " + cfg.hostname()
                    + " its backup MX (see above)");
        }
        return allOk ? 0 : 1;
    }
}
