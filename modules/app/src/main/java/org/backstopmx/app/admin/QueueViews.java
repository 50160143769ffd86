package org.backstopmx.app.admin;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.QueueStats;
import org.backstopmx.core.QueuedMessage;
import org.backstopmx.core.QueuedRecipient;
import org.backstopmx.core.RecipientState;
import org.backstopmx.queue.H2MailQueue;

/**
 * What the admin API sends and the CLI prints: plain records, serialised as JSON by Jackson. Times are ISO-8601 UTC
 * strings, states are {@link RecipientState} names. The same records come from the running appliance and from the
 * queue files of a stopped one, so the CLI prints both the same way.
 */
public final class QueueViews {
    private QueueViews() {
    }

    /** {@code GET /queue}: the oldest messages first, at most the limit, with the queue's totals. */
    public record Listing(long messages, long bytes, List<Message> listed) {
    }

    /** One message with its envelope and recipients ({@code GET /queue/ID}). */
    public record Message(String id, String receivedAt, long size, String sender, String clientAddress,
            String clientHelo, String envId, String ret, List<Recipient> recipients) {
    }

    /** One recipient as the queue holds it now. */
    public record Recipient(String address, String state, int attempts, String nextAttemptAt, String lastReply,
            String dsnNotify, String orcpt) {
    }

    /** What a command did: {@code recipients} moved (held, released, returned, deleted, flushed). */
    public record Result(String id, String action, int recipients, String detail) {
    }

    /**
     * {@code GET /stats}: the queue's counters, its oldest message and, from a running appliance, the destinations
     * that are down (null from a stopped one: unknown).
     */
    public record Stats(long messages, long bytes, Map<String, Long> recipients, String oldestReceivedAt,
            List<String> destinationsDown, boolean running, List<Domain> domains) {
    }

    /** One domain's pending recipients and its oldest pending message, like a line of Postfix's qshape. */
    public record Domain(String domain, long queued, long deferred, long held, String oldestReceivedAt) {
    }

    /** An error, with the HTTP status it came with. */
    /** One address the recipient cache knows; {@code source} is {@code CALLOUT}, {@code DELIVERY} or {@code IMPORT}. */
    public record KnownRecipient(String address, boolean valid, String reply, String learnedAt, String expiresAt,
            String source) {
    }

    /** {@code GET /recipients}: what the recipient cache knows and still believes, by address. */
    public record KnownRecipients(List<KnownRecipient> known) {
    }

    /** {@code POST /recipients}: addresses to add as valid. */
    public record RecipientImport(List<String> addresses) {
    }

    public static KnownRecipient known(org.backstopmx.core.RecipientCache.Entry e) {
        return new KnownRecipient(e.address(), e.valid(), e.reply(), time(e.learnedAt()), time(e.expiresAt()),
                e.source().name());
    }

    public record Error(String error) {
    }

    /** A message as listed ({@code envelope} null) or shown. */
    public static Message message(QueuedMessage m, Envelope e) {
        List<Recipient> recipients = new ArrayList<>();
        for (int i = 0; i < m.recipients().size(); i++) {
            QueuedRecipient r = m.recipients().get(i);
            EnvelopeRecipient er = e != null && i < e.recipients().size() ? e.recipients().get(i) : null;
            recipients.add(new Recipient(r.address(), r.state().name(), r.attempts(), time(r.nextAttemptAt()),
                    r.lastReply(), er == null ? null : er.dsnNotify(), er == null ? null : er.orcpt()));
        }
        return new Message(m.id().value(), time(m.receivedAt()), m.size(), m.sender(), m.clientAddress(),
                e == null ? null : e.clientHelo(), e == null ? null : e.envId(),
                e == null ? null : e.dsnRet().map(Enum::name).orElse(null), recipients);
    }

    /**
     * The queue's pending mail per domain, for {@code stats}: recipients by state, and when the oldest message with a
     * recipient of it still pending was received.
     */
    public record ByDomain(Map<String, Map<RecipientState, Long>> recipients, Map<String, Instant> oldestPending) {
        public static ByDomain of(H2MailQueue.DomainSnapshot snapshot) {
            return new ByDomain(snapshot.recipients(), snapshot.oldestPending());
        }
    }

    public static Stats stats(QueueStats s, Instant oldest, List<String> down, boolean running, ByDomain snapshot) {
        Map<String, Long> byState = new LinkedHashMap<>();
        for (RecipientState state : RecipientState.values()) {
            if (state.isPending()) {
                byState.put(state.name(), s.recipients(state));
            }
        }
        List<Domain> domains = new ArrayList<>();
        snapshot.recipients().forEach((domain, states) -> {
            long queued = states.getOrDefault(RecipientState.QUEUED, 0L);
            long deferred = states.getOrDefault(RecipientState.DEFERRED, 0L);
            long held = states.getOrDefault(RecipientState.HELD, 0L);
            if (queued + deferred + held > 0) {
                domains.add(new Domain(domain, queued, deferred, held, time(snapshot.oldestPending().get(domain))));
            }
        });
        // the most mail first, like qshape
        domains.sort(java.util.Comparator.comparingLong((Domain d) -> d.queued() + d.deferred() + d.held()).reversed()
                .thenComparing(Domain::domain));
        return new Stats(s.messages(), s.bytes(), byState, time(oldest), down, running, domains);
    }

    static String time(Instant t) {
        return t == null ? null : t.toString();
    }
}
