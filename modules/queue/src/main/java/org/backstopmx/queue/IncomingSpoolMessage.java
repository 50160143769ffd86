package org.backstopmx.queue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;

/**
 * A message being received: a spool file open for writing, and the state that decides who deletes it.
 *
 * <p>The body stream writes through a 64 KiB buffer straight into the file's channel, after the header the spool
 * created it with, so DATA is never held whole in memory. Closing the stream only flushes it: the envelope and end
 * marker are appended and the file forced and closed by {@link #commit}, or the file is deleted by {@link #abort},
 * whichever comes first.
 */
final class IncomingSpoolMessage implements IncomingMessage {
    private enum State { OPEN, COMMITTING, COMMITTED, ABORTED }

    private final QueueId id;
    private final Path file;
    private final FileChannel channel;
    private final BodyStream body;
    private final Enqueuer enqueuer;
    private State state = State.OPEN; // guarded by this

    IncomingSpoolMessage(QueueId id, Path file, FileChannel channel, Enqueuer enqueuer) {
        this.id = id;
        this.file = file;
        this.channel = channel;
        this.body = new BodyStream(channel);
        this.enqueuer = enqueuer;
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
                // The SMTP side never aborts and then commits; the queue's close() aborting it under it does.
                throw StorageFailure.unavailable(id + ": commit");
            }
            if (state != State.OPEN) {
                throw new IllegalStateException(id + ": commit called twice");
            }
            state = State.COMMITTING;
        }
        boolean committed = false;
        try {
            enqueuer.enqueue(this, envelope);
            committed = true;
        } finally {
            synchronized (this) {
                state = committed ? State.COMMITTED : State.ABORTED;
            }
        }
    }

    @Override
    public void abort() {
        synchronized (this) {
            if (state != State.OPEN) {
                return; // committed, or the commit in progress owns the file and cleans up after itself
            }
            state = State.ABORTED;
        }
        discard();
        enqueuer.forget(this);
    }

    @Override
    public void close() {
        abort();
    }

    Path file() {
        return file;
    }

    /**
     * Makes the spool file the record of the message's acceptance: flushes the body, appends the envelope (with the
     * body's size as written) and the end marker, {@code fsync}s the file, closes it, and checks that the name still
     * leads to what we wrote (a file removed under us would otherwise be committed as a message that does not exist).
     *
     * @return the envelope as stored: {@code envelope} with the size of the body in the file
     */
    Envelope seal(Envelope envelope) throws IOException {
        body.flush();
        long bodySize = channel.size() - SpoolFile.HEADER.length;
        Envelope stored = bodySize == envelope.size() ? envelope : envelope.withSize(bodySize);
        body.write(SpoolFile.trailer(stored));
        body.flush();
        channel.force(true);
        long size = channel.size();
        channel.close();
        long onDisk = Files.size(file);
        if (onDisk != size) {
            throw new IOException(file + " changed under the queue: " + onDisk + " bytes instead of " + size);
        }
        return stored;
    }

    /** Closes and deletes the body file, ignoring errors: this runs on paths that are already failing. */
    void discard() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // deleting is what matters
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // incomplete, it is removed at the next start; complete (sealed, commit failed), it is queued then
        }
    }

    /** Buffered writes into the channel; not thread-safe, like any stream one SMTP session writes. */
    private static final class BodyStream extends OutputStream {
        private final FileChannel channel;
        private final ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);

        BodyStream(FileChannel channel) {
            this.channel = channel;
        }

        @Override
        public void write(int b) throws IOException {
            if (!buffer.hasRemaining()) {
                drain();
            }
            buffer.put((byte) b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            if (len > buffer.remaining()) {
                drain();
            }
            if (len >= buffer.capacity()) {
                writeFully(ByteBuffer.wrap(b, off, len));
            } else {
                buffer.put(b, off, len);
            }
        }

        @Override
        public void flush() throws IOException {
            drain();
        }

        /** Only flushes: the channel belongs to the message, which closes it on commit or abort. */
        @Override
        public void close() throws IOException {
            drain();
        }

        private void drain() throws IOException {
            buffer.flip();
            try {
                writeFully(buffer);
            } finally {
                buffer.clear();
            }
        }

        private void writeFully(ByteBuffer b) throws IOException {
            while (b.hasRemaining()) {
                channel.write(b);
            }
        }
    }
}
