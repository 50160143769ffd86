package org.backstopmx.queue.postgres;

import java.io.IOException;
import java.io.OutputStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Objects;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;

/**
 * A message being received into the shared database: DATA fills a buffer of at most one chunk ({@value #CHUNK}
 * bytes); each full chunk is inserted at once, so no more than one chunk of a message is ever in the heap. The
 * chunks and, at {@link #commit}, the message and recipient rows are one transaction on one connection, borrowed when
 * the first chunk is full (a message of one chunk holds none while its DATA arrives): a message that is not committed
 * leaves nothing behind, whatever happens to the node.
 *
 * <p>Writes come from the one thread that receives the message; {@link #abort} may come from another (the queue's
 * close), so both hold this object's lock.
 */
final class ChunkedIncomingMessage implements IncomingMessage {
    /** The size of a body chunk row. */
    static final int CHUNK = 256 * 1024;
    private static final int FIRST_BUFFER = 8 * 1024;

    private enum State { OPEN, COMMITTING, COMMITTED, ABORTED }

    private final QueueId id;
    private final Receiving receiving;
    private final OutputStream body = new Body();
    private byte[] buffer = new byte[FIRST_BUFFER];
    private int filled;
    private int chunks;
    private long size;
    private Connection connection;
    private State state = State.OPEN; // guarded by this

    ChunkedIncomingMessage(QueueId id, Receiving receiving) {
        this.id = id;
        this.receiving = receiving;
    }

    @Override
    public QueueId id() {
        return id;
    }

    @Override
    public OutputStream body() {
        return body;
    }

    @Override
    public void commit(Envelope envelope) throws QueueException {
        Objects.requireNonNull(envelope, "envelope");
        if (!envelope.id().equals(id)) {
            throw new IllegalArgumentException("envelope of " + envelope.id() + " committed as " + id);
        }
        synchronized (this) {
            if (state == State.ABORTED) {
                throw new QueueException(QueueException.Kind.UNAVAILABLE, id + ": commit: the message was aborted");
            }
            if (state != State.OPEN) {
                throw new IllegalStateException(id + ": commit called twice");
            }
            state = State.COMMITTING;
        }
        boolean committed = false;
        try {
            receiving.commit(this, envelope);
            committed = true;
        } finally {
            synchronized (this) {
                state = committed ? State.COMMITTED : State.ABORTED;
                closeConnection(!committed);
            }
        }
    }

    /**
     * The connection the message's transaction is on, with the last chunk written: for {@link Receiving#commit}, which
     * adds the rows and commits.
     */
    synchronized Connection finish() throws SQLException {
        if (connection == null) {
            connection = receiving.borrow();
        }
        if (filled > 0) {
            writeChunk();
        }
        return connection;
    }

    /** The body's size: every byte written. */
    synchronized long size() {
        return size;
    }

    @Override
    public void abort() {
        synchronized (this) {
            if (state != State.OPEN) {
                return;
            }
            state = State.ABORTED;
            closeConnection(true);
            buffer = null;
        }
        receiving.forget(this);
    }

    @Override
    public void close() {
        abort();
    }

    private void closeConnection(boolean rollback) {
        if (connection == null) {
            return;
        }
        try {
            if (rollback) {
                connection.rollback();
            }
        } catch (SQLException e) {
            // the pool discards a connection that fails; the transaction dies with it
        }
        try {
            connection.close();
        } catch (SQLException e) {
            // likewise
        }
        connection = null;
    }

    private void writeChunk() throws SQLException {
        try (Watchdog.Watch w = receiving.watch(connection, id + ": a body chunk")) {
            MessageSql.insertChunk(connection, id, chunks, buffer, filled);
        }
        chunks++;
        filled = 0;
    }

    private synchronized void append(byte[] b, int off, int len) throws IOException {
        if (state != State.OPEN) {
            throw new IOException(id + ": the message is no longer being received (" + state + ")");
        }
        while (len > 0) {
            if (filled == buffer.length && buffer.length < CHUNK) {
                buffer = Arrays.copyOf(buffer, Math.min(CHUNK, buffer.length * 2));
            }
            int n = Math.min(len, buffer.length - filled);
            System.arraycopy(b, off, buffer, filled, n);
            filled += n;
            off += n;
            len -= n;
            size += n;
            if (filled == CHUNK) {
                try {
                    if (connection == null) {
                        connection = receiving.borrow();
                    }
                    writeChunk();
                } catch (SQLException e) {
                    throw new IOException(id + ": cannot store a body chunk: " + e.getMessage(), e);
                }
            }
        }
    }

    private final class Body extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            append(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            append(b, off, len);
        }
    }
}
