package org.backstopmx.queue.postgres;

import java.io.IOException;
import java.io.InputStream;
import java.sql.SQLException;
import java.util.Optional;
import org.backstopmx.core.QueueId;

/**
 * A stored body read back one chunk at a time, each chunk one short query on a pooled connection: a 50 MB message
 * costs one chunk of heap, and no connection is held between reads (delivery to a slow primary may take minutes).
 * A chunk that is missing before the count read at open means the message was deleted meanwhile: an
 * {@link IOException}, like a spool file unlinked under a reader on a file system that does not keep it.
 */
final class ChunkedBody extends InputStream {
    private final PostgresDatabase db;
    private final QueueId id;
    private final int chunks;
    private int next;
    private byte[] current = new byte[0];
    private int position;

    ChunkedBody(PostgresDatabase db, QueueId id, int chunks) {
        this.db = db;
        this.id = id;
        this.chunks = chunks;
    }

    @Override
    public int read() throws IOException {
        if (!fill()) {
            return -1;
        }
        return current[position++] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        if (!fill()) {
            return -1;
        }
        int n = Math.min(len, current.length - position);
        System.arraycopy(current, position, b, off, n);
        position += n;
        return n;
    }

    @Override
    public int available() {
        return current.length - position;
    }

    /** Makes bytes available; false at the end of the body. */
    private boolean fill() throws IOException {
        while (position == current.length) {
            if (next == chunks) {
                return false;
            }
            Optional<byte[]> chunk;
            try {
                chunk = db.read(c -> MessageSql.chunk(c, id, next));
            } catch (SQLException e) {
                throw new IOException(id + ": cannot read body chunk " + next + ": " + e.getMessage(), e);
            }
            if (chunk.isEmpty()) {
                throw new IOException(id + ": body chunk " + next + " of " + chunks + " is gone (message deleted?)");
            }
            current = chunk.get();
            position = 0;
            next++;
        }
        return true;
    }
}
