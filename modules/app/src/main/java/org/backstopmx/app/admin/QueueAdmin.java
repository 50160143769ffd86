package org.backstopmx.app.admin;

import java.io.InputStream;
import java.util.Optional;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;

/**
 * The queue and recipient-cache commands of the CLI and the admin API: one interface with three implementations, the running appliance's
 * ({@link LiveQueueAdmin}, behind {@link AdminServer}), the HTTP client the CLI uses to reach it ({@link AdminClient}),
 * and the queue files of a stopped appliance ({@link OfflineQueueAdmin}). Commands on one message return empty when
 * no such message is queued.
 */
public interface QueueAdmin extends AutoCloseable {
    QueueViews.Listing list(int limit) throws QueueException;

    Optional<QueueViews.Message> show(QueueId id) throws QueueException;

    /** The stored message (our {@code Received:} header included). */
    Optional<InputStream> body(QueueId id) throws QueueException;

    Optional<QueueViews.Result> hold(QueueId id) throws QueueException;

    Optional<QueueViews.Result> release(QueueId id) throws QueueException;

    Optional<QueueViews.Result> bounce(QueueId id) throws QueueException;

    Optional<QueueViews.Result> delete(QueueId id) throws QueueException;

    /** Makes the pending mail of {@code domain} (every domain when empty) due now and marks its destination up. */
    QueueViews.Result flush(Optional<String> domain) throws QueueException;

    QueueViews.Stats stats() throws QueueException;

    /** What the recipient cache knows and still believes, by address, at most {@code limit}; every domain when empty. */
    QueueViews.KnownRecipients recipients(Optional<String> domain, int limit) throws QueueException;

    /** Forgets one address of the recipient cache; empty when it was not known. */
    Optional<QueueViews.Result> forgetRecipient(String address) throws QueueException;

    /**
     * Adds addresses to the recipient cache as valid, for {@code callout.positive-ttl} (refreshed by deliveries like
     * any other entry).
     *
     * @throws IllegalArgumentException naming the first address that is not at a callout domain; nothing is added then
     */
    QueueViews.Result importRecipients(java.util.List<String> addresses) throws QueueException;

    @Override
    void close();
}
