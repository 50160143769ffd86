package org.backstopmx.smtpin.spf;

import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Drops from a message's header section every {@code Authentication-Results:} field that claims our authserv-id
 * (RFC 8601 §5: an MTA "MUST" remove or rename such fields from outside, or the primary would take a forged result as
 * ours); every other octet passes unchanged. A field is held until its end is known (the next line does not start
 * with white space), then written or dropped whole. The header section ends at the first empty line; after it the
 * octets go straight through.
 *
 * <p>{@link #finish} writes out what is still held (a message that ends inside its header section); {@link #written}
 * is what reached the stream below. Not thread-safe: one per message.
 *
 * <p>XXX: a field longer than {@value #MAX_HELD} octets is let through rather than held without bound.
 */
public final class AuthResultsFilter extends FilterOutputStream {
    static final int MAX_HELD = 16 * 1024;
    private static final byte[] NAME = "authentication-results:".getBytes(StandardCharsets.US_ASCII);

    private final String authservId;
    /** The current line's start while it may still be the field's name, then the whole field. */
    private final ByteArrayOutputStream held = new ByteArrayOutputStream();
    private Mode mode = Mode.PASS;
    private boolean inHeaders = true;
    private boolean lineStart = true;
    /** Octets of the current line so far, while matching the name. */
    private int column;
    private long written;

    private enum Mode {
        /** Octets go straight on. */
        PASS,
        /** The line so far is a prefix of the name: held. */
        MATCHING,
        /** An Authentication-Results field: held to its end. */
        HOLD
    }

    /** @param authservId our authserv-id: the configured hostname */
    public AuthResultsFilter(OutputStream out, String authservId) {
        super(out);
        this.authservId = strip(authservId);
    }

    /** Octets passed to the stream below so far. */
    public long written() {
        return written;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        int passFrom = off; // the octets of b from here on are PASS octets not yet written
        int end = off + len;
        for (int i = off; i < end && inHeaders; i++) {
            byte c = b[i];
            if (lineStart) {
                lineStart = false;
                boolean continuation = c == ' ' || c == '\t';
                if (mode == Mode.HOLD && !continuation) {
                    decideHeld(); // the field ended with the previous line
                }
                if (mode != Mode.HOLD) {
                    mode = Mode.PASS;
                    if (c == '\r' || c == '\n') {
                        inHeaders = false; // RFC 5322 §2.1: the empty line ends the header section
                        break;
                    }
                    if (!continuation) {
                        mode = Mode.MATCHING;
                        column = 0;
                    }
                }
            }
            if (c == '\n') {
                lineStart = true;
            }
            if (mode == Mode.PASS) {
                continue;
            }
            pass(b, passFrom, i);
            passFrom = i + 1;
            held.write(c);
            if (mode == Mode.MATCHING) {
                byte lower = c >= 'A' && c <= 'Z' ? (byte) (c + 32) : c;
                if (lower != NAME[column]) {
                    writeHeld(); // another field: what was held of its line goes on
                    mode = Mode.PASS;
                } else if (++column == NAME.length) {
                    mode = Mode.HOLD;
                }
            } else if (held.size() > MAX_HELD) {
                writeHeld();
                mode = Mode.PASS; // the rest of the field, continuation lines included, goes on
            }
        }
        pass(b, passFrom, end);
    }

    private void pass(byte[] b, int from, int to) throws IOException {
        if (to > from) {
            out.write(b, from, to - from);
            written += to - from;
        }
    }

    /** The held field is complete: written unless it claims our authserv-id. */
    private void decideHeld() throws IOException {
        mode = Mode.PASS;
        String field = held.toString(StandardCharsets.ISO_8859_1);
        if (authservId.equalsIgnoreCase(claimedId(field))) {
            held.reset();
        } else {
            writeHeld();
        }
    }

    private void writeHeld() throws IOException {
        held.writeTo(out);
        written += held.size();
        held.reset();
    }

    /**
     * Writes out a field still held when the content ends (a message of headers only) and flushes; call once, at the
     * end of the content.
     */
    public void finish() throws IOException {
        if (mode == Mode.HOLD) {
            decideHeld();
        } else {
            writeHeld();
        }
        out.flush();
    }

    /** The authserv-id of an Authentication-Results field: what follows the colon, CFWS skipped, up to ";". */
    static String claimedId(String field) {
        StringBuilder id = new StringBuilder();
        int depth = 0;
        for (int i = field.indexOf(':') + 1; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && depth > 0) {
                i++;
            } else if (c == '(') {
                depth++;
            } else if (c == ')' && depth > 0) {
                depth--;
            } else if (depth == 0) {
                if (c == ';') {
                    break;
                }
                if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                    if (id.length() > 0) {
                        break;
                    }
                } else {
                    id.append(c);
                }
            }
        }
        return strip(id.toString());
    }

    private static String strip(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
    }
}
