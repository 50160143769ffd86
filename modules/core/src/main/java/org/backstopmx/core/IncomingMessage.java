package org.backstopmx.core;

import java.io.OutputStream;

/**
 * A message being received: its body is written straight into its spool file as the DATA lines arrive, so no
 * message is ever held whole in memory.
 *
 * <p>Call order: {@link #body()} any number of times and write to it; then exactly one of {@link #commit(Envelope)}
 * or {@link #abort()}. {@link #close()} after anything aborts a message that was not committed, so
 * try-with-resources never leaves a file behind.
 */
public interface IncomingMessage extends AutoCloseable {

    QueueId id();

    /** The stream into the spool file. Writing to it may throw {@link java.io.IOException} (disk full). */
    OutputStream body();

    /**
     * Makes the message durable: fsyncs the body file, inserts the envelope and recipient rows, and returns only after
     * an fsync of the database that started after that commit has finished. When this returns normally the message
     * survives {@code kill -9} and power loss; only then may the SMTP side answer 250.
     *
     * @throws QueueException when the message could not be stored; nothing of it is left behind
     */
    void commit(Envelope envelope) throws QueueException;

    /** Discards the message and its body file. Safe to call more than once. */
    void abort();

    @Override
    void close();
}
