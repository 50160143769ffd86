package org.backstopmx.app;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar backstop.jar <command>}: the appliance and its tools in one jar. */
@Command(name = "backstop", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Backstop MX: a backup MX that holds mail while the primary is down and forwards it when it is back.",
        subcommands = {ServeCommand.class, QueueCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
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
