package org.backstopmx.app;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.Callable;
import org.backstopmx.app.admin.QueueViews;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code stats}: the queue at a glance. */
@Command(name = "stats", mixinStandardHelpOptions = true,
        description = "Queue totals, recipients by state, the oldest message and the destinations that are down.")
final class StatsCommand implements Callable<Integer> {
    @Mixin
    QueueAccess access;

    @Option(names = "--json", description = "Print the figures as JSON.")
    boolean json;

    /** What "ago" is measured from; a test sets its own. */
    Clock clock = Clock.systemUTC();

    @Override
    public Integer call() {
        return access.run((admin, out) -> {
            QueueViews.Stats s = admin.stats();
            if (json) {
                QueueCommand.printJson(s, out);
                return 0;
            }
            out.printf("appliance:          %s%n", s.running() ? "running" : "stopped (read from the queue files)");
            out.printf("messages:           %d%n", s.messages());
            out.printf("bytes:              %d%n", s.bytes());
            for (Map.Entry<String, Long> e : s.recipients().entrySet()) {
                out.printf("recipients %-8s %d%n", e.getKey().toLowerCase(java.util.Locale.ROOT) + ":", e.getValue());
            }
            if (s.oldestReceivedAt() != null) {
                Duration age = Duration.between(Instant.parse(s.oldestReceivedAt()), clock.instant());
                out.printf("oldest message:     %s (%s ago)%n", s.oldestReceivedAt(), human(age));
            } else {
                out.println("oldest message:     none");
            }
            if (s.destinationsDown() != null) {
                out.printf("destinations down:  %s%n",
                        s.destinationsDown().isEmpty() ? "none" : String.join(", ", s.destinationsDown()));
            }
            if (!s.domains().isEmpty()) {
                out.println();
                out.printf("%-32s %8s %8s %8s  %s%n", "domain", "queued", "deferred", "held", "oldest");
                for (QueueViews.Domain d : s.domains()) {
                    out.printf("%-32s %8d %8d %8d  %s%n", d.domain(), d.queued(), d.deferred(), d.held(),
                            d.oldestReceivedAt() == null ? "-"
                                    : human(Duration.between(Instant.parse(d.oldestReceivedAt()), clock.instant()))
                                            + " ago");
                }
            }
            return 0;
        });
    }

    private static String human(Duration d) {
        if (d.isNegative()) {
            return "0s";
        }
        if (d.toDays() > 0) {
            return d.toDays() + "d" + d.toHoursPart() + "h";
        }
        if (d.toHours() > 0) {
            return d.toHours() + "h" + d.toMinutesPart() + "m";
        }
        return d.toMinutes() > 0 ? d.toMinutes() + "m" + d.toSecondsPart() + "s" : d.toSeconds() + "s";
    }
}
