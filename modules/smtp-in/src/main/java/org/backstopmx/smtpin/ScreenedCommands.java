package org.backstopmx.smtpin;

import io.netty.buffer.ByteBuf;

/**
 * What a client refused by screening may still do: QUIT, RSET and NOOP, answered as usual. Every other command,
 * EHLO and HELO included, gets the refusal ({@code 554 5.7.1}, or {@code 450 4.7.1} with {@code screen.action:
 * tempfail}), so no MAIL, RCPT, DATA or BDAT is ever taken from it: RFC 5321 §3.1 has a server that will not take
 * mail from a client say 554 and then answer its commands, QUIT above all, until it leaves. Each refusal counts
 * towards {@code smtp.max-errors}, so a client that keeps trying is disconnected with 421.
 */
final class ScreenedCommands {
    private ScreenedCommands() {
    }

    /** Whether the command line {@code line} (its verb, case-insensitive, alone or before a space) is allowed. */
    static boolean allowed(ByteBuf line) {
        int start = line.readerIndex();
        int end = line.writerIndex();
        int length = 0;
        while (start + length < end && Character.isLetter((char) line.getByte(start + length))) {
            length++;
        }
        if (length != 4) {
            return false;
        }
        String verb = line.toString(start, 4, java.nio.charset.StandardCharsets.US_ASCII).toUpperCase(java.util.Locale.ROOT);
        return verb.equals("QUIT") || verb.equals("RSET") || verb.equals("NOOP");
    }
}
