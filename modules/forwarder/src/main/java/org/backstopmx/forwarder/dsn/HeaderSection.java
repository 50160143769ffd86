package org.backstopmx.forwarder.dsn;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The header section of the stored original, read up to the blank line that ends it and no further: the part of the
 * original a headers-only report returns, and what the composer needs to know before it writes its own headers.
 *
 * @param messageId the original's {@code Message-ID} ({@code <...>}), or null when it has none that looks like one
 * @param eightBit  whether the header section has octets beyond US-ASCII (RFC 6532 headers, or raw 8-bit junk)
 */
record HeaderSection(String messageId, boolean eightBit) {
    /** Longest Message-ID field kept for parsing; a longer one is not used. */
    private static final int MESSAGE_ID_LIMIT = 998;
    private static final byte[] MESSAGE_ID_NAME = "message-id:".getBytes(StandardCharsets.US_ASCII);
    private static final Pattern MSG_ID = Pattern.compile("<[\\x21-\\x3B\\x3D\\x3F-\\x7E]+@[\\x21-\\x3B\\x3D\\x3F-\\x7E]+>");

    /**
     * Reads the header section from {@code in}, copying it to {@code out} line by line with line endings as stored,
     * and stops after the blank line that ends it (which is not copied) or at the end of the input. Reads only what it
     * needs beyond that: {@code in} should be buffered in small pieces.
     */
    static HeaderSection copy(InputStream in, OutputStream out) throws IOException {
        boolean eightBit = false;
        boolean lineStart = true;
        int column = 0;
        boolean inMessageId = false;
        boolean messageIdDone = false;
        ByteArrayOutputStream messageId = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            if (lineStart) {
                if (b == '\n') {
                    break;
                }
                if (b == '\r') {
                    int next = in.read();
                    if (next == '\n' || next < 0) {
                        break;
                    }
                    out.write('\r');
                    b = next;
                }
                if (inMessageId && b != ' ' && b != '\t') {
                    inMessageId = false;
                    messageIdDone = true;
                }
                column = 0;
            }
            out.write(b);
            eightBit |= b >= 0x80;
            lineStart = b == '\n';
            if (!messageIdDone) {
                if (!inMessageId && column < MESSAGE_ID_NAME.length) {
                    if (Character.toLowerCase(b) != MESSAGE_ID_NAME[column]) {
                        column = Integer.MAX_VALUE; // not this field; wait for the next line
                    } else if (column == MESSAGE_ID_NAME.length - 1) {
                        inMessageId = true;
                        column = Integer.MAX_VALUE;
                        continue;
                    }
                }
                if (column != Integer.MAX_VALUE) {
                    column++;
                }
                if (inMessageId && b != '\r' && b != '\n' && messageId.size() <= MESSAGE_ID_LIMIT) {
                    messageId.write(b);
                }
            }
        }
        return new HeaderSection(parseMessageId(messageId.toString(StandardCharsets.ISO_8859_1)), eightBit);
    }

    private static String parseMessageId(String value) {
        if (value.length() > MESSAGE_ID_LIMIT) {
            return null;
        }
        Matcher m = MSG_ID.matcher(value);
        return m.find() ? m.group() : null;
    }
}
