package org.backstopmx.app;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar backstop.jar <command>}: the appliance and its tools in one jar. */
@Command(name = "backstop", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Backstop MX: a backup MX that holds mail while the primary is down and forwards it when it is back.",
        subcommands = {ServeCommand.class, CheckConfigCommand.class, QueueCommand.class, StatsCommand.class,
                RecipientsCommand.class, TrainCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        if (args.length == 0 || !args[0].equals("serve")) {
            // before anything logs: the tools print their results on standard output, warnings only on standard error
            System.setProperty("backstop.log.target", "System.err");
            System.setProperty("backstop.log.level", "WARN");
        }
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code (for tests). */
    public static int run(String... args) {
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
