package org.backstopmx.app;

import java.io.PrintStream;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueuedMessage;
import org.backstopmx.core.QueuedRecipient;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.queue.QueueReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code queue}: inspect the queue. */
@Command(name = "queue", mixinStandardHelpOptions = true, description = "Inspect the mail queue.",
        subcommands = {QueueCommand.ListCommand.class})
final class QueueCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    /** {@code queue list}: the queue like Postfix's mailq. */
    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List queued messages like mailq: queue id, size, arrival, sender, recipients with their state.")
    static final class ListCommand implements Callable<Integer> {
        private static final DateTimeFormatter ARRIVAL = DateTimeFormatter.ofPattern("EEE MMM dd HH:mm:ss", Locale.US);

        @Mixin
        ConfigOption config;

        @Option(names = "--limit", defaultValue = "100000", description = "At most this many messages (default ${DEFAULT-VALUE}).")
        int limit;

        @Override
        public Integer call() {
            BackstopConfig cfg = config.loadOrReport().orElse(null);
            if (cfg == null) {
                return 2;
            }
            List<QueuedMessage> messages;
            long total;
            try (QueueReader queue = QueueReader.open(cfg.queue().path())) {
                messages = queue.list(limit);
                total = queue.stats().messages();
            } catch (QueueException e) {
                System.err.println("backstop: " + e.getMessage());
                return 1;
            }
            print(messages, System.out);
            if (total > messages.size()) {
                System.out.printf("-- listed %d of %d messages (--limit)%n", messages.size(), total);
            }
            return 0;
        }

        static void print(List<QueuedMessage> messages, PrintStream out) {
            if (messages.isEmpty()) {
                out.println("Mail queue is empty");
                return;
            }
            out.printf("%-16s %8s %-20s %s%n", "-Queue ID-------", "--Size--", "----Arrival Time----", "-Sender/Recipient-------");
            long bytes = 0;
            for (QueuedMessage m : messages) {
                bytes += m.size();
                out.printf("%-16s %8d %-20s %s%n", m.id(), m.size(),
                        ARRIVAL.format(m.receivedAt().atZone(ZoneId.systemDefault())),
                        m.sender().isEmpty() ? "MAILER-DAEMON" : m.sender());
                for (QueuedRecipient r : m.recipients()) {
                    if (r.lastReply() != null) {
                        out.printf("%47s(%s)%n", "", r.lastReply());
                    }
                    out.printf("%47s%s  %s attempts=%d%n", "", r.address(), r.state(), r.attempts());
                }
                out.println();
            }
            out.printf("-- %d Kbytes in %d Request%s.%n", (bytes + 1023) / 1024, messages.size(),
                    messages.size() == 1 ? "" : "s");
        }
    }
}
