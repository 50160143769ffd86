package org.backstopmx.forwarder.smtp;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Streams the stored message into an open DATA: the bytes exactly as stored, dot-stuffed, then the final dot. The
 * body is never held whole in memory.
 */
final class BodyCopier {
    private static final int BUFFER = 64 * 1024;

    /** An error reading the stored message, as opposed to writing to the socket. */
    static final class LocalReadError extends IOException {
        private static final long serialVersionUID = 1L;

        LocalReadError(IOException cause) {
            super("reading the stored message failed: " + cause, cause);
        }
    }

    private BodyCopier() {
    }

    /**
     * Copies {@code body} to {@code socketOut} and ends it with {@code .CRLF}; flushes.
     *
     * @throws LocalReadError when opening or reading the stored message failed (nothing more is written)
     * @throws IOException    when writing to the socket failed
     */
    static void copy(BodySource body, OutputStream socketOut) throws IOException {
        DotStuffingOutputStream out = new DotStuffingOutputStream(new BufferedOutputStream(socketOut, BUFFER));
        byte[] buf = new byte[BUFFER];
        InputStream in;
        try {
            in = body.open();
        } catch (IOException e) {
            throw new LocalReadError(e);
        }
        try (in) {
            while (true) {
                int n;
                try {
                    n = in.read(buf);
                } catch (IOException e) {
                    throw new LocalReadError(e);
                }
                if (n < 0) {
                    break;
                }
                out.write(buf, 0, n);
            }
        }
        out.finish();
    }
}
