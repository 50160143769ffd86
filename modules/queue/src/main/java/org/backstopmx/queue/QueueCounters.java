package org.backstopmx.queue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.backstopmx.core.QueueStats;
import org.backstopmx.core.RecipientState;

/**
 * The numbers behind {@link QueueStats} and the queue gauges, kept in memory and moved with every change.
 *
 * <p>Counting rows per scrape costs about 0.5 s at 1 M recipients (README: "The queue on H2"), so the counts are loaded
 * once at startup by one aggregate query and then updated by the code that changes the rows, after its transaction
 * has committed. The same holds per domain: a flush's answer, the claim's list of domains and the per-domain gauges
 * read these instead of grouping the recipient table (a scan of every row, 0.4 s at 100 000 recipients).
 */
final class QueueCounters {
    private final AtomicLong messages = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final Map<RecipientState, AtomicLong> recipients = new EnumMap<>(RecipientState.class);
    /** Recipients by domain and state; a domain stays once seen (few: the served domains), at zero when empty. */
    private final Map<String, Map<RecipientState, AtomicLong>> byDomain = new ConcurrentHashMap<>();

    QueueCounters() {
        for (RecipientState s : RecipientState.values()) {
            recipients.put(s, new AtomicLong());
        }
    }

    /** Sets every counter from the tables (at open, and after a reopen of a database H2 had closed). */
    void load(Connection c) throws SQLException {
        long m = 0;
        long b = 0;
        Map<RecipientState, Long> byState = new EnumMap<>(RecipientState.class);
        Map<String, Map<RecipientState, Long>> domains = new TreeMap<>();
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT NULL, NULL, COUNT(*), COALESCE(SUM(size), 0) FROM message"
                        + " UNION ALL SELECT domain, state, COUNT(*), 0 FROM recipient GROUP BY domain, state")) {
            while (rs.next()) {
                String state = rs.getString(2);
                if (state == null) {
                    m = rs.getLong(3);
                    b = rs.getLong(4);
                } else {
                    RecipientState st = RecipientState.valueOf(state);
                    byState.merge(st, rs.getLong(3), Long::sum);
                    domains.computeIfAbsent(rs.getString(1), d -> new EnumMap<>(RecipientState.class))
                            .put(st, rs.getLong(3));
                }
            }
        }
        messages.set(m);
        bytes.set(b);
        for (RecipientState s : RecipientState.values()) {
            recipients.get(s).set(byState.getOrDefault(s, 0L));
        }
        byDomain.values().forEach(states -> states.values().forEach(n -> n.set(0)));
        domains.forEach((d, states) -> states.forEach((st, n) -> domain(d).get(st).set(n)));
    }

    /** A message was committed: one QUEUED recipient per entry of {@code domains} (duplicates counted). */
    void added(long size, List<String> domains) {
        messages.incrementAndGet();
        bytes.addAndGet(size);
        recipients.get(RecipientState.QUEUED).addAndGet(domains.size());
        for (String d : domains) {
            domain(d).get(RecipientState.QUEUED).incrementAndGet();
        }
    }

    /** One recipient of {@code domain} changed state (an outcome was recorded, an admin moved it). */
    void moved(String domain, RecipientState from, RecipientState to) {
        if (from != to) {
            recipients.get(from).decrementAndGet();
            recipients.get(to).incrementAndGet();
            Map<RecipientState, AtomicLong> d = domain(domain);
            d.get(from).decrementAndGet();
            d.get(to).incrementAndGet();
        }
    }

    /** A message was deleted with these recipients. */
    void removed(MessageRows.Removed removed) {
        messages.decrementAndGet();
        bytes.addAndGet(-removed.size());
        for (int i = 0; i < removed.states().size(); i++) {
            RecipientState s = removed.states().get(i);
            recipients.get(s).decrementAndGet();
            domain(removed.domains().get(i)).get(s).decrementAndGet();
        }
    }

    /** QUEUED plus DEFERRED recipients of {@code domain}, leased or not: what a flush makes due. */
    long scheduled(String domain) {
        Map<RecipientState, AtomicLong> d = byDomain.get(domain);
        return d == null ? 0 : d.get(RecipientState.QUEUED).get() + d.get(RecipientState.DEFERRED).get();
    }

    /** The domains with a QUEUED or DEFERRED recipient, sorted. */
    Set<String> scheduledDomains() {
        Set<String> domains = new TreeSet<>();
        byDomain.forEach((d, states) -> {
            if (states.get(RecipientState.QUEUED).get() + states.get(RecipientState.DEFERRED).get() > 0) {
                domains.add(d);
            }
        });
        return domains;
    }

    /** Recipients by domain and state, the states and domains with none left out (as a GROUP BY gives them). */
    Map<String, Map<RecipientState, Long>> byDomain() {
        Map<String, Map<RecipientState, Long>> result = new TreeMap<>();
        byDomain.forEach((d, states) -> states.forEach((s, n) -> {
            long v = n.get();
            if (v > 0) {
                result.computeIfAbsent(d, k -> new EnumMap<>(RecipientState.class)).put(s, v);
            }
        }));
        return result;
    }

    private Map<RecipientState, AtomicLong> domain(String domain) {
        return byDomain.computeIfAbsent(domain, d -> {
            Map<RecipientState, AtomicLong> states = new EnumMap<>(RecipientState.class);
            for (RecipientState s : RecipientState.values()) {
                states.put(s, new AtomicLong());
            }
            return states;
        });
    }

    long messages() {
        return messages.get();
    }

    long recipients() {
        long total = 0;
        for (AtomicLong a : recipients.values()) {
            total += a.get();
        }
        return total;
    }

    QueueStats snapshot() {
        Map<RecipientState, Long> byState = new EnumMap<>(RecipientState.class);
        recipients.forEach((s, n) -> byState.put(s, n.get()));
        return new QueueStats(messages.get(), bytes.get(), byState);
    }
}
