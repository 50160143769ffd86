package org.backstopmx.app;

import java.io.InputStream;
import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.backstopmx.app.admin.AdminServer;
import org.backstopmx.app.admin.QueueAdmin;
import org.backstopmx.app.admin.QueueViews;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code queue}: look at and steer the queue, through the running appliance's admin API or, when it is stopped, on
 * its queue files.
 */
@Command(name = "queue", mixinStandardHelpOptions = true, description = "Inspect and steer the mail queue.",
        subcommands = {QueueCommand.ListCommand.class, QueueCommand.ShowCommand.class, QueueCommand.FlushCommand.class,
                QueueCommand.HoldCommand.class, QueueCommand.ReleaseCommand.class, QueueCommand.DeleteCommand.class,
                QueueCommand.BounceCommand.class, QueueRebuildCommand.class})
final class QueueCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** {@code queue list}: the queue like Postfix's mailq. */
    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List queued messages like mailq: queue id, size, arrival, sender, recipients with their state.")
    static final class ListCommand implements Callable<Integer> {
        private static final DateTimeFormatter ARRIVAL = DateTimeFormatter.ofPattern("EEE MMM dd HH:mm:ss", Locale.US);

        @Mixin
        QueueAccess access;

        @Option(names = "--limit", defaultValue = "100000", description = "At most this many messages (default ${DEFAULT-VALUE}).")
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
                QueueViews.Listing listing = admin.list(limit);
                if (json) {
                    printJson(listing, out);
                    return 0;
                }
                print(listing, out);
                if (listing.messages() > listing.listed().size()) {
                    out.printf("-- listed %d of %d messages (--limit)%n", listing.listed().size(), listing.messages());
                }
                return 0;
            });
        }

        static void print(QueueViews.Listing listing, PrintStream out) {
            if (listing.listed().isEmpty()) {
                out.println("Mail queue is empty");
                return;
            }
            out.printf("%-16s %8s %-20s %s%n", "-Queue ID-------", "--Size--", "----Arrival Time----", "-Sender/Recipient-------");
            long bytes = 0;
            for (QueueViews.Message m : listing.listed()) {
                bytes += m.size();
                out.printf("%-16s %8d %-20s %s%n", m.id(), m.size(),
                        ARRIVAL.format(Instant.parse(m.receivedAt()).atZone(ZoneId.systemDefault())),
                        m.sender().isEmpty() ? "MAILER-DAEMON" : m.sender());
                for (QueueViews.Recipient r : m.recipients()) {
                    if (r.lastReply() != null) {
                        out.printf("%47s(%s)%n", "", r.lastReply());
                    }
                    out.printf("%47s%s  %s attempts=%d%n", "", r.address(), r.state(), r.attempts());
                }
                out.println();
            }
            out.printf("-- %d Kbytes in %d Request%s.%n", (bytes + 1023) / 1024, listing.listed().size(),
                    listing.listed().size() == 1 ? "" : "s");
        }
    }

    /** {@code queue show ID}: one message's envelope and recipients, or with {@code --body} the stored message. */
    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Show one message: envelope, recipients with state, attempts, next attempt and last reply.")
    static final class ShowCommand implements Callable<Integer> {
        @Mixin
        QueueAccess access;

        @Parameters(paramLabel = "ID", description = "The queue id.")
        String id;

        @Option(names = "--body", description = "Print the stored message (headers and body) instead.")
        boolean body;

        @Option(names = "--json", description = "Print the message as JSON.")
        boolean json;

        @Override
        public Integer call() {
            Optional<QueueId> qid = parse(id);
            if (qid.isEmpty()) {
                return 2;
            }
            return access.run((admin, out) -> {
                if (body) {
                    Optional<InputStream> in = admin.body(qid.get());
                    if (in.isEmpty()) {
                        return missing(qid.get());
                    }
                    try (InputStream stream = in.get()) {
                        stream.transferTo(out);
                    } catch (java.io.IOException e) {
                        throw new QueueException(QueueException.Kind.STORAGE_ERROR,
                                qid.get() + ": cannot read the message: " + e.getMessage(), e);
                    }
                    out.flush();
                    return 0;
                }
                Optional<QueueViews.Message> m = admin.show(qid.get());
                if (m.isEmpty()) {
                    return missing(qid.get());
                }
                if (json) {
                    printJson(m.get(), out);
                } else {
                    print(m.get(), out);
                }
                return 0;
            });
        }

        static void print(QueueViews.Message m, PrintStream out) {
            out.printf("Queue ID:  %s%n", m.id());
            out.printf("Arrival:   %s%n", m.receivedAt());
            out.printf("Size:      %d bytes%n", m.size());
            out.printf("Sender:    <%s>%n", m.sender());
            out.printf("Client:    %s (HELO %s)%n", m.clientAddress(), m.clientHelo());
            if (m.envId() != null || m.ret() != null) {
                out.printf("DSN:       ENVID=%s RET=%s%n", m.envId(), m.ret());
            }
            out.println("Recipients:");
            for (QueueViews.Recipient r : m.recipients()) {
                out.printf("  <%s>  %s  attempts=%d%s%s%n", r.address(), r.state(), r.attempts(),
                        r.nextAttemptAt() == null ? "" : "  next=" + r.nextAttemptAt(),
                        r.dsnNotify() == null ? "" : "  NOTIFY=" + r.dsnNotify());
                if (r.lastReply() != null) {
                    out.printf("      last: %s%n", r.lastReply());
                }
            }
        }
    }

    /** {@code queue flush [DOMAIN]}: everything pending (or one domain's) due now, like postqueue -f / -s. */
    @Command(name = "flush", mixinStandardHelpOptions = true,
            description = "Make pending mail due now (all of it, or one domain's) and mark the destination up;"
                    + " held mail stays held.")
    static final class FlushCommand implements Callable<Integer> {
        @Mixin
        QueueAccess access;

        @Parameters(paramLabel = "DOMAIN", arity = "0..1", description = "Only this domain.")
        String domain;

        @Override
        public Integer call() {
            return access.run((admin, out) -> {
                QueueViews.Result r = admin.flush(Optional.ofNullable(domain));
                out.printf("flush %s: %s%n", domain == null ? "all domains" : domain, r.detail());
                return 0;
            });
        }
    }

    /** The commands on one message. */
    abstract static class OneMessage implements Callable<Integer> {
        @Mixin
        QueueAccess access;

        @Parameters(paramLabel = "ID", description = "The queue id.")
        String id;

        abstract Optional<QueueViews.Result> apply(QueueAdmin admin, QueueId id) throws QueueException;

        @Override
        public Integer call() {
            Optional<QueueId> qid = parse(id);
            if (qid.isEmpty()) {
                return 2;
            }
            return access.run((admin, out) -> {
                Optional<QueueViews.Result> r = apply(admin, qid.get());
                if (r.isEmpty()) {
                    return missing(qid.get());
                }
                out.printf("%s: %s%n", qid.get(), r.get().detail());
                return 0;
            });
        }
    }

    @Command(name = "hold", mixinStandardHelpOptions = true,
            description = "Hold a message: its recipients are not tried, flushed or expired until released.")
    static final class HoldCommand extends OneMessage {
        @Override
        Optional<QueueViews.Result> apply(QueueAdmin admin, QueueId id) throws QueueException {
            return admin.hold(id);
        }
    }

    @Command(name = "release", mixinStandardHelpOptions = true,
            description = "Release a held message: its recipients are due now.")
    static final class ReleaseCommand extends OneMessage {
        @Override
        Optional<QueueViews.Result> apply(QueueAdmin admin, QueueId id) throws QueueException {
            return admin.release(id);
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Delete a message and its body without telling the sender.")
    static final class DeleteCommand extends OneMessage {
        @Override
        Optional<QueueViews.Result> apply(QueueAdmin admin, QueueId id) throws QueueException {
            return admin.delete(id);
        }
    }

    @Command(name = "bounce", mixinStandardHelpOptions = true,
            description = "Return a message to its sender: its pending recipients fail with 5.0.0 and the sender gets"
                    + " a delivery status notification.")
    static final class BounceCommand extends OneMessage {
        @Override
        Optional<QueueViews.Result> apply(QueueAdmin admin, QueueId id) throws QueueException {
            return admin.bounce(id);
        }
    }

    static Optional<QueueId> parse(String text) {
        if (!QueueId.isValid(text)) {
            System.err.println("backstop: not a queue id: " + text + " (queue list shows them)");
            return Optional.empty();
        }
        return Optional.of(new QueueId(text));
    }

    static int missing(QueueId id) {
        System.err.println("backstop: no message " + id + " in the queue");
        return 1;
    }

    static void printJson(Object value, PrintStream out) throws QueueException {
        try {
            out.println(AdminServer.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(value));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new QueueException(QueueException.Kind.STORAGE_ERROR, "cannot write JSON: " + e.getMessage(), e);
        }
    }
}
