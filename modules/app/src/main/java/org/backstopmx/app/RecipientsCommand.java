package org.backstopmx.app;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.backstopmx.app.admin.QueueViews;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code recipients}: look at and steer the recipient cache of the domains with {@code recipient-check: callout},
 * through the running appliance's admin API or, when it is stopped, on its queue database.
 */
@Command(name = "recipients", mixinStandardHelpOptions = true,
        description = "Inspect and steer what Backstop knows of the primaries' recipients (recipient-check: callout).",
        subcommands = {RecipientsCommand.ListCommand.class, RecipientsCommand.ForgetCommand.class,
                RecipientsCommand.ImportCommand.class})
final class RecipientsCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List the addresses the cache knows and still believes: valid or invalid, until when, how"
                    + " it was learned.")
    static final class ListCommand implements Callable<Integer> {
        @Mixin
        QueueAccess access;

        @Option(names = "--domain", description = "Only this domain.")
        String domain;

        @Option(names = "--limit", defaultValue = "100000", description = "At most this many (default ${DEFAULT-VALUE}).")
        int limit;

        @Option(names = "--json", description = "Print the listing as JSON.")
        boolean json;

        @Override
        public Integer call() {
            if (limit < 1) {
                System.err.println("backstop: --limit must be a positive number");
                return 2;
            }
            return access.run((admin, out) -> {
                QueueViews.KnownRecipients known = admin.recipients(Optional.ofNullable(domain), limit);
                if (json) {
                    QueueCommand.printJson(known, out);
                    return 0;
                }
                if (known.known().isEmpty()) {
                    out.println("No recipients known");
                    return 0;
                }
                for (QueueViews.KnownRecipient r : known.known()) {
                    out.printf("%-40s %-7s until %s  (%s, %s)%s%n", r.address(), r.valid() ? "valid" : "invalid",
                            r.expiresAt(), r.source().toLowerCase(java.util.Locale.ROOT), r.learnedAt(),
                            r.reply() == null ? "" : "  " + r.reply());
                }
                return 0;
            });
        }
    }

    @Command(name = "forget", mixinStandardHelpOptions = true,
            description = "Forget one address: the next RCPT for it asks the primary again (or, while the primary"
                    + " cannot be asked, follows callout.unknown-when-down).")
    static final class ForgetCommand implements Callable<Integer> {
        @Mixin
        QueueAccess access;

        @Parameters(paramLabel = "ADDRESS", description = "The address, like alice@example.org.")
        String address;

        @Override
        public Integer call() {
            return access.run((admin, out) -> {
                Optional<QueueViews.Result> r = admin.forgetRecipient(address);
                if (r.isEmpty()) {
                    System.err.println("backstop: " + address + " is not known to the recipient cache");
                    return 1;
                }
                out.printf("%s: %s%n", r.get().id(), r.get().detail());
                return 0;
            });
        }
    }

    @Command(name = "import", mixinStandardHelpOptions = true,
            description = "Add the addresses of FILE (one per line, # starts a comment) as valid, for"
                    + " callout.positive-ttl: a warm cache before the primary is ever asked.")
    static final class ImportCommand implements Callable<Integer> {
        @Mixin
        QueueAccess access;

        @Parameters(paramLabel = "FILE", description = "The file of addresses.")
        Path file;

        @Override
        public Integer call() {
            List<String> addresses = new ArrayList<>();
            try {
                int lineNo = 0;
                for (String raw : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    lineNo++;
                    String line = raw.contains("#") ? raw.substring(0, raw.indexOf('#')).strip() : raw.strip();
                    if (line.isEmpty()) {
                        continue;
                    }
                    if (line.indexOf('@') <= 0) {
                        System.err.println("backstop: " + file + ": line " + lineNo + " (" + raw.strip()
                                + ") is not an address like alice@example.org; nothing imported");
                        return 2;
                    }
                    addresses.add(line);
                }
            } catch (IOException e) {
                System.err.println("backstop: cannot read " + file + ": " + e.getMessage());
                return 2;
            }
            return access.run((admin, out) -> {
                try {
                    out.println("import " + file + ": " + admin.importRecipients(addresses).detail());
                    return 0;
                } catch (IllegalArgumentException e) {
                    System.err.println("backstop: " + e.getMessage());
                    return 2;
                }
            });
        }
    }
}
