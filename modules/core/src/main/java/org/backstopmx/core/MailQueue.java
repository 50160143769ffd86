package org.backstopmx.core;

import java.util.List;
import java.util.Optional;

/**
 * The durable queue between the receiving and the delivering side.
 *
 * <p>Guarantees: a message whose {@link IncomingMessage#commit(Envelope)} returned is on disk, body and envelope,
 * fsynced; a message that was not committed leaves nothing behind after a restart. All methods may block on disk
 * and database I/O, so callers must not run them on a network event loop. Implementations are thread-safe.
 */
public interface MailQueue extends AutoCloseable {

    /**
     * Starts receiving a new message: creates its body file in the spool.
     *
     * @throws QueueException when no file can be created (disk full, queue closed)
     */
    IncomingMessage receive(QueueId id) throws QueueException;

    /**
     * Whether the queue's file system has room for a message of {@code expectedSize} bytes on top of the configured
     * free-space reserve. Checked at MAIL time so a client is turned away with {@code 452 4.3.1} before it sends.
     */
    boolean hasRoomFor(long expectedSize);

    /** Messages in the queue, oldest first, at most {@code limit} of them. */
    List<QueuedMessage> list(int limit);

    /** One message, if it is in the queue. */
    Optional<QueuedMessage> find(QueueId id);

    /** Opens the stored body (our {@code Received:} header included) for reading. */
    java.io.InputStream openBody(QueueId id) throws QueueException;

    /**
     * Removes a message, its recipients and its body file, whatever their state (admin {@code queue delete}, and the
     * retirement of finished messages). Returns false when no such message was queued.
     */
    boolean delete(QueueId id) throws QueueException;

    /** Counters kept by the queue itself. */
    QueueStats stats();

    /** Closes the database cleanly; messages being received are aborted. */
    @Override
    void close();
}
