package org.backstopmx.app;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Clock;
import java.util.Optional;
import java.util.function.Supplier;
import org.backstopmx.core.Liveness;
import org.backstopmx.core.Greylist;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.RecipientCache;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.QueueConfig;
import org.backstopmx.core.config.QueueType;
import org.backstopmx.queue.H2MailQueue;
import org.backstopmx.queue.postgres.PostgresMailQueue;
import org.backstopmx.queue.postgres.PostgresSettings;

/**
 * The queue that {@code queue.type} names, opened: the embedded H2 queue of one node, or the PostgreSQL queue that
 * several nodes share. Everything above the {@link MailQueue} interface is the same for both; what only the H2 queue
 * has (its per-domain gauges) is there only with it: the shared queue has its whole-queue gauges only.
 *
 * @param queue          the queue
 * @param recipients     its recipient (callout) cache
 * @param whyNotWritable why it cannot take mail now, for the readiness check; empty while it can
 * @param greylist       where greylisting keeps its triplets
 * @param h2             the H2 queue, or null on PostgreSQL
 * @param shared         the PostgreSQL queue, or null on H2
 * @param where          where it is, for the start-up line
 */
record QueueChoice(MailQueue queue, RecipientCache recipients, Supplier<Optional<String>> whyNotWritable,
        Greylist greylist, H2MailQueue h2, PostgresMailQueue shared, String where) {

    static QueueChoice open(BackstopConfig config, Clock clock, Liveness liveness) throws QueueException, IOException {
        QueueConfig q = config.queue();
        if (q.type() == QueueType.H2) {
            H2MailQueue h2 = H2MailQueue.open(q, config.smtp().maxMessageSize(), clock, liveness);
            return new QueueChoice(h2, h2.recipientCache(), h2::whyNotWritable, h2.greylist(), h2, null,
                    q.path().toAbsolutePath().toString());
        }
        String password = q.passwordFile() == null ? null
                : Files.readString(q.passwordFile(), StandardCharsets.UTF_8).strip();
        String node = q.nodeId() != null ? q.nodeId() : config.hostname();
        PostgresMailQueue pg = PostgresMailQueue.open(new PostgresSettings(q.url(), q.username(), password, node),
                clock);
        return new QueueChoice(pg, pg.recipientCache(), pg::whyNotWritable, pg.greylist(), null, pg, q.url() + " as node " + node);
    }
}
