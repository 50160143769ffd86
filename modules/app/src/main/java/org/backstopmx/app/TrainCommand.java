package org.backstopmx.app;

import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code train}: the training run of the AppCDS archive, {@link TrainingRun}'s workload, then exit. Run as
 * {@code java -XX:ArchiveClassesAtExit=backstop.jsa -jar backstop.jar train}, the JVM writes the classes this loaded
 * into {@code backstop.jsa} as it exits, and a start with {@code -XX:SharedArchiveFile} maps them instead of loading
 * and verifying them again. A refused message or a delivery that does not arrive in time ends the run with exit
 * status 1 (the archive then still holds what was loaded so far).
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Run the appliance on a scratch queue with mail from and to 127.0.0.1, then exit: the training "
                + "run of the AppCDS archive (java -XX:ArchiveClassesAtExit=backstop.jsa -jar backstop.jar train).")
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--messages", paramLabel = "N", defaultValue = "2000",
            description = "Messages to send (default: ${DEFAULT-VALUE}).")
    int messages;

    @Option(names = "--sessions", paramLabel = "S", defaultValue = "8",
            description = "Concurrent SMTP sessions (default: ${DEFAULT-VALUE}).")
    int sessions;

    @Option(names = "--size", paramLabel = "BYTES", defaultValue = "4096",
            description = "Approximate size of each message (default: ${DEFAULT-VALUE}).")
    int size;

    @Override
    public Integer call() throws Exception {
        if (messages < 2 || sessions < 1 || size < 1) {
            System.err.println("backstop: train: --messages must be at least 2, --sessions and --size at least 1");
            return 2;
        }
        try {
            long took = TrainingRun.run(messages, sessions, size);
            System.out.printf("training run: %d messages accepted and delivered over %d sessions in %d ms%n",
                    messages, sessions, took);
            return 0;
        } catch (IOException | IllegalStateException e) {
            System.err.println("backstop: train: " + e.getMessage());
            return 1;
        }
    }
}
