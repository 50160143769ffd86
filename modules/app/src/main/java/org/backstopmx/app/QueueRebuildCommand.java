package org.backstopmx.app;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.Callable;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.queue.QueueRebuild;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code queue rebuild}: a new queue database from the spool files, for when the appliance refuses to start because
 * its database is damaged or lost. Works on the files of a stopped appliance only.
 */
@Command(name = "rebuild", mixinStandardHelpOptions = true,
        description = {"Build a new queue database from the spool files (the appliance must be stopped).",
                "Every complete spool file is queued again, all recipients due at once; the old database file is"
                        + " moved to quarantine/, never deleted. Use --dry-run first to see what it would do."})
final class QueueRebuildCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @Option(names = {"-n", "--dry-run"}, description = "Print what would be done and change nothing.")
    boolean dryRun;

    @Option(names = {"-v", "--verbose"}, description = "List every message (queue id, sender, recipients).")
    boolean verbose;

    @Override
    public Integer call() {
        BackstopConfig cfg = config.loadOrReport().orElse(null);
        if (cfg == null) {
            return 2;
        }
        Path dir = cfg.queue().path();
        try {
            QueueRebuild.Plan plan = dryRun ? QueueRebuild.plan(dir) : QueueRebuild.run(dir, Clock.systemUTC());
            print(plan, dryRun, verbose, System.out);
            return 0;
        } catch (QueueException e) {
            System.err.println("backstop: " + e.getMessage());
            return 1;
        }
    }

    static void print(QueueRebuild.Plan plan, boolean dryRun, boolean verbose, PrintStream out) {
        String will = dryRun ? "would be " : "";
        out.printf("queue %s%n", plan.queueDir());
        if (plan.database() == null) {
            out.println("database: none");
        } else if (dryRun) {
            out.printf("database: %s would be moved to %s/%n", plan.database(),
                    plan.queueDir().resolve("quarantine"));
        } else {
            out.printf("database: the old one moved to %s%n", plan.databaseMovedTo());
        }
        out.printf("%d messages (%d recipients) %squeued again from their spool files%n", plan.restore().size(),
                plan.recipients(), will);
        if (verbose) {
            for (Envelope e : plan.restore()) {
                out.printf("  %s <%s> -> %s%n", e.id(), e.sender(),
                        String.join(", ", e.recipients().stream().map(EnvelopeRecipient::address).toList()));
            }
        }
        out.printf("%d incomplete spool files (never acknowledged) %sremoved%n", plan.incomplete().size(), will);
        for (QueueId id : plan.incomplete()) {
            out.printf("  %s%n", id);
        }
        out.printf("%d unreadable spool files %smoved to quarantine/%n", plan.unreadable().size(), will);
        for (Map.Entry<QueueId, String> e : plan.unreadable().entrySet()) {
            out.printf("  %s: %s%n", e.getKey(), e.getValue());
        }
        if (dryRun) {
            out.println("dry run: nothing was changed");
        }
    }
}
