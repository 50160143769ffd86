package org.backstopmx.app.admin;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Locale;
import org.backstopmx.core.RecipientCache;
import org.backstopmx.core.config.BackstopConfig;

import java.io.InputStream;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueueStats;
import org.backstopmx.core.QueuedMessage;
import org.backstopmx.forwarder.delivery.Forwarder;
import org.backstopmx.queue.H2MailQueue;

/**
 * The queue commands on an open queue: reads from the queue, changes through the forwarder (the owner of a recipient's
 * life once it is queued). Used by the running appliance's admin API and, with a forwarder that is not started, by the
 * CLI on a stopped appliance's queue.
 */
public class LiveQueueAdmin implements QueueAdmin {
    private final MailQueue queue;
    private final RecipientCache recipientCache;
    private final Supplier<QueueViews.ByDomain> byDomain;
    private final Forwarder forwarder;
    private final boolean running;
    private final BackstopConfig config;
    private final Clock clock;

    /** @param config for the recipient cache: the callout domains and {@code callout.positive-ttl} of imports */
    public LiveQueueAdmin(H2MailQueue queue, Forwarder forwarder, boolean running, BackstopConfig config,
            Clock clock) {
        this(queue, queue.recipientCache(), () -> QueueViews.ByDomain.of(queue.domainSnapshot()), forwarder, running,
                config, clock);
    }

    /**
     * Any queue: the H2 one, or the PostgreSQL one that several nodes share (every node's mail is listed, counted and
     * changed from any node).
     *
     * @param byDomain the pending mail per domain, read when {@code stats} asks
     */
    public LiveQueueAdmin(MailQueue queue, RecipientCache recipientCache, Supplier<QueueViews.ByDomain> byDomain,
            Forwarder forwarder, boolean running, BackstopConfig config, Clock clock) {
        this.queue = queue;
        this.recipientCache = recipientCache;
        this.byDomain = byDomain;
        this.forwarder = forwarder;
        this.running = running;
        this.config = config;
        this.clock = clock;
    }

    @Override
    public QueueViews.Listing list(int limit) {
        QueueStats s = queue.stats();
        // no envelope per message: a listing of many messages is one query (show has the rest)
        List<QueueViews.Message> listed = queue.list(limit).stream().map(m -> QueueViews.message(m, null)).toList();
        return new QueueViews.Listing(s.messages(), s.bytes(), listed);
    }

    @Override
    public Optional<QueueViews.Message> show(QueueId id) {
        return queue.find(id).map(m -> QueueViews.message(m, queue.envelope(id).orElse(null)));
    }

    @Override
    public Optional<InputStream> body(QueueId id) throws QueueException {
        if (queue.find(id).isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(queue.openBody(id));
    }

    @Override
    public Optional<QueueViews.Result> hold(QueueId id) throws QueueException {
        return forwarder.hold(id).map(n -> result(id, "hold", n));
    }

    @Override
    public Optional<QueueViews.Result> release(QueueId id) throws QueueException {
        return forwarder.release(id).map(n -> result(id, "release", n));
    }

    @Override
    public Optional<QueueViews.Result> bounce(QueueId id) throws QueueException {
        return forwarder.bounce(id).map(n -> result(id, "bounce", n));
    }

    @Override
    public Optional<QueueViews.Result> delete(QueueId id) throws QueueException {
        Optional<QueuedMessage> m = queue.find(id);
        if (m.isEmpty() || !queue.delete(id)) {
            return Optional.empty();
        }
        return Optional.of(new QueueViews.Result(id.value(), "delete", m.get().recipients().size(),
                "deleted without notice to the sender"));
    }

    @Override
    public QueueViews.Result flush(Optional<String> domain) throws QueueException {
        int pending = domain.isPresent() ? forwarder.flush(domain.get()) : forwarder.flushAll();
        return new QueueViews.Result(null, "flush", pending,
                pending == 0 ? "nothing is waiting" : pending + " recipients due now");
    }

    @Override
    public QueueViews.Stats stats() throws QueueException {
        Instant oldest = queue.list(1).stream().findFirst().map(QueuedMessage::receivedAt).orElse(null);
        List<String> down = running ? forwarder.downDestinations() : null;
        return QueueViews.stats(queue.stats(), oldest, down, running, byDomain.get());
    }

    @Override
    public QueueViews.KnownRecipients recipients(Optional<String> domain, int limit) throws QueueException {
        return new QueueViews.KnownRecipients(recipientCache.list(domain.orElse(null), clock.instant(), limit)
                .stream().map(QueueViews::known).toList());
    }

    @Override
    public Optional<QueueViews.Result> forgetRecipient(String address) throws QueueException {
        String a = address.strip().toLowerCase(Locale.ROOT);
        if (!recipientCache.forget(a)) {
            return Optional.empty();
        }
        return Optional.of(new QueueViews.Result(a, "forget", 1,
                "forgotten; the next RCPT for it asks the primary again"));
    }

    @Override
    public QueueViews.Result importRecipients(List<String> addresses) throws QueueException {
        Instant now = clock.instant();
        List<RecipientCache.Entry> entries = new ArrayList<>();
        for (String raw : addresses) {
            String a = raw.strip().toLowerCase(Locale.ROOT);
            int at = a.lastIndexOf('@');
            if (at <= 0 || at > 64 || !config.calloutDomains().contains(a.substring(at + 1))) {
                throw new IllegalArgumentException("not an address at a domain with recipient-check: callout ("
                        + String.join(", ", config.calloutDomains()) + "): \"" + raw + "\"; nothing imported");
            }
            entries.add(new RecipientCache.Entry(a, true, null, now, now.plus(config.callout().positiveTtl()),
                    RecipientCache.Source.IMPORT));
        }
        int n = recipientCache.putAll(entries);
        return new QueueViews.Result(null, "import", n, n + " addresses known as valid until "
                + QueueViews.time(now.plus(config.callout().positiveTtl())));
    }

    /** The queue and forwarder belong to whoever made them. */
    @Override
    public void close() {
    }

    private QueueViews.Result result(QueueId id, String action, int n) {
        String detail = switch (action) {
            case "hold" -> n + " recipients held; recipients being tried now finish their attempt";
            case "release" -> n + " recipients released, due now";
            case "bounce" -> n + " recipients returned to the sender";
            default -> "";
        };
        return new QueueViews.Result(id.value(), action, n, detail);
    }
}
