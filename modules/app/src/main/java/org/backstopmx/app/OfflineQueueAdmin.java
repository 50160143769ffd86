package org.backstopmx.app;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.InputStream;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.backstopmx.app.admin.LiveQueueAdmin;
import org.backstopmx.app.admin.QueueAdmin;
import org.backstopmx.app.admin.QueueViews;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueueStats;
import org.backstopmx.core.QueuedMessage;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.forwarder.DnsjavaMxResolver;
import org.backstopmx.forwarder.delivery.Forwarder;
import org.backstopmx.queue.H2MailQueue;
import org.backstopmx.queue.QueueReader;

/**
 * The queue commands on the files of a stopped appliance. Reading ({@code list}, {@code show}, {@code stats}) opens
 * the queue read-only ({@link QueueReader}: no recovery, no migration, several readers at once). A change opens it
 * for writing, with the queue lock, and makes it through a forwarder that is never started (so a bounce's DSN is
 * queued like the running appliance queues it, and sent at its next start). While an appliance holds the queue, both
 * fail at once with a message that points at its admin API.
 */
final class OfflineQueueAdmin implements QueueAdmin {
    private final BackstopConfig config;
    private final Clock clock;

    OfflineQueueAdmin(BackstopConfig config, Clock clock) {
        this.config = config;
        this.clock = clock;
    }

    @Override
    public QueueViews.Listing list(int limit) throws QueueException {
        try (QueueReader reader = QueueReader.open(config.queue().path())) {
            QueueStats s = reader.stats();
            List<QueueViews.Message> listed = reader.list(limit).stream()
                    .map(m -> QueueViews.message(m, null)).toList();
            return new QueueViews.Listing(s.messages(), s.bytes(), listed);
        }
    }

    @Override
    public Optional<QueueViews.Message> show(QueueId id) throws QueueException {
        try (QueueReader reader = QueueReader.open(config.queue().path())) {
            Optional<QueuedMessage> m = reader.find(id);
            if (m.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(QueueViews.message(m.get(), reader.envelope(id).orElse(null)));
        }
    }

    @Override
    public Optional<InputStream> body(QueueId id) throws QueueException {
        try (QueueReader reader = QueueReader.open(config.queue().path())) {
            if (reader.find(id).isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(reader.openBody(id)); // an open file stays readable after the reader closes
        }
    }

    @Override
    public Optional<QueueViews.Result> hold(QueueId id) throws QueueException {
        return writing(admin -> admin.hold(id));
    }

    @Override
    public Optional<QueueViews.Result> release(QueueId id) throws QueueException {
        return writing(admin -> admin.release(id));
    }

    @Override
    public Optional<QueueViews.Result> bounce(QueueId id) throws QueueException {
        return writing(admin -> admin.bounce(id));
    }

    @Override
    public Optional<QueueViews.Result> delete(QueueId id) throws QueueException {
        return writing(admin -> admin.delete(id));
    }

    @Override
    public QueueViews.Result flush(Optional<String> domain) throws QueueException {
        return writing(admin -> admin.flush(domain));
    }

    @Override
    public QueueViews.Stats stats() throws QueueException {
        try (QueueReader reader = QueueReader.open(config.queue().path())) {
            QueueStats s = reader.stats();
            java.time.Instant oldest = reader.list(1).stream().findFirst().map(QueuedMessage::receivedAt).orElse(null);
            return QueueViews.stats(s, oldest, null, false, QueueViews.ByDomain.of(reader.domainSnapshot()));
        }
    }

    /** Opens the queue for writing (the cache is in its database; the read-only reader does not see it). */
    @Override
    public QueueViews.KnownRecipients recipients(Optional<String> domain, int limit) throws QueueException {
        return writing(admin -> admin.recipients(domain, limit));
    }

    @Override
    public Optional<QueueViews.Result> forgetRecipient(String address) throws QueueException {
        return writing(admin -> admin.forgetRecipient(address));
    }

    @Override
    public QueueViews.Result importRecipients(List<String> addresses) throws QueueException {
        return writing(admin -> admin.importRecipients(addresses));
    }

    @Override
    public void close() {
    }

    private interface Change<T> {
        T apply(QueueAdmin admin) throws QueueException;
    }

    private <T> T writing(Change<T> change) throws QueueException {
        try (H2MailQueue queue = H2MailQueue.open(config.queue(), config.smtp().maxMessageSize(), clock)) {
            // a resolver that is built and never asked: nothing is delivered here
            Forwarder forwarder = Forwarder.of(config, queue, new DnsjavaMxResolver(config.dns()),
                    new SimpleMeterRegistry(), clock);
            try {
                return change.apply(new LiveQueueAdmin(queue, forwarder, false, config, clock));
            } finally {
                forwarder.close();
            }
        }
    }
}
