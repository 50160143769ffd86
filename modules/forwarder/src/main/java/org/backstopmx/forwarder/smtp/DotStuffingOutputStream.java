package org.backstopmx.forwarder.smtp;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Writes message content for DATA: a {@code .} at the start of a line gets another {@code .} in front of it
 * (RFC 5321 §4.5.2), everything else passes unchanged, byte for byte (CRLF stays CRLF, 8-bit bytes stay). Whether
 * the next byte starts a line is remembered across writes, and the very first byte starts one.
 * {@link #finish()} writes the terminating {@code .CRLF} (adding a CRLF first only if the content did not end
 * with one); closing does not close the underlying stream.
 */
final class DotStuffingOutputStream extends FilterOutputStream {
    private static final byte[] DOT_CRLF = {'.', '\r', '\n'};
    private static final byte[] CRLF_DOT_CRLF = {'\r', '\n', '.', '\r', '\n'};

    private boolean atLineStart = true;

    DotStuffingOutputStream(OutputStream out) {
        super(out);
    }

    @Override
    public void write(int b) throws IOException {
        if (atLineStart && b == '.') {
            out.write('.');
        }
        out.write(b);
        atLineStart = b == '\n';
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        int start = off;
        int end = off + len;
        for (int i = off; i < end; i++) {
            if (atLineStart && b[i] == '.') {
                // write up to and including this dot, then the dot again: the stuffed ".."
                out.write(b, start, i + 1 - start);
                out.write('.');
                start = i + 1;
            }
            atLineStart = b[i] == '\n';
        }
        out.write(b, start, end - start);
    }

    /** Ends the content: {@code .CRLF}, after a CRLF if the last line was not complete. Flushes. */
    void finish() throws IOException {
        out.write(atLineStart ? DOT_CRLF : CRLF_DOT_CRLF);
        out.flush();
    }

    @Override
    public void close() throws IOException {
        flush();
    }
}
