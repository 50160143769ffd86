package org.backstopmx.smtpin;

import java.time.Instant;
import org.backstopmx.core.SmtpReply;

/**
 * One message being received after 354: the line rules of DATA, with the content handed on to its
 * {@link MessageSpool} (which applies the size, line length and loop checks and writes the spool file).
 *
 * <p>Rules of DATA itself (each one makes the whole message fail after the final dot, and nothing is queued):
 * <ul>
 *   <li>the end of data is {@code CRLF . CRLF} exactly: the terminating dot line must follow a line that ended in
 *       CRLF (RFC 5321 §4.1.1.4). A line ending in a bare LF, or a bare CR anywhere, refuses the message
 *       (RFC 5321 §2.3.8; SMTP smuggling, CVE-2023-51764 class);</li>
 *   <li>dot-stuffing is undone (RFC 5321 §4.5.2); everything else is stored byte for byte.</li>
 * </ul>
 */
final class DataTransaction {
    private final MessageSpool spool;
    private boolean previousEndedWithCrlf = true;
    private boolean bareLineEnding;

    DataTransaction(MessageSpool spool) {
        this.spool = spool;
    }

    MessageSpool spool() {
        return spool;
    }

    /**
     * Takes one line, its ending included.
     *
     * @return true when this line was the end of data
     */
    boolean onLine(byte[] line) {
        int n = line.length;
        boolean crlf = n >= 2 && line[n - 1] == '\n' && line[n - 2] == '\r';
        if (crlf && n == 3 && line[0] == '.' && previousEndedWithCrlf) {
            return true;
        }
        if (!crlf || hasBareCr(line, n - 2)) {
            bareLineEnding = true;
        }
        previousEndedWithCrlf = crlf;
        int off = line[0] == '.' ? 1 : 0;
        spool.write(line, off, n - off);
        return false;
    }

    /** The framer discarded a line over the limit. */
    void onOverlongLine(boolean endedWithCrlf) {
        previousEndedWithCrlf = endedWithCrlf;
        spool.onOverlongLine();
    }

    /** The end of data arrived: judge, commit when all is well, and say what to answer. */
    SmtpReply finish(Instant now) {
        return spool.finish(now, bareLineEnding ? Replies.BARE_LINE_ENDING : null);
    }

    private static boolean hasBareCr(byte[] line, int end) {
        for (int i = 0; i < end; i++) {
            if (line[i] == '\r') {
                return true;
            }
        }
        return false;
    }
}
