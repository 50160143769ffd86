package org.backstopmx.forwarder.smtp;

import java.time.Duration;
import java.util.Objects;

/**
 * How long the relay client waits at each stage of a session. The defaults are the minimums of RFC 5321 §4.5.3.2;
 * tests pass short values.
 *
 * @param connect   opening the TCP connection (RFC 5321 gives none; 30 s)
 * @param greeting  the 220 greeting (§4.5.3.2.1: 5 min)
 * @param command   EHLO/HELO, STARTTLS, RSET and QUIT (RFC 5321 gives none; the MAIL value, 5 min)
 * @param mail      the reply to MAIL (§4.5.3.2.2: 5 min)
 * @param rcpt      the reply to each RCPT (§4.5.3.2.3: 5 min)
 * @param data      the 354 reply to DATA (§4.5.3.2.4: 2 min)
 * @param dataBlock each block of message data (§4.5.3.2.5: 3 min). XXX only enforced on reads: a socket write
 *                  that blocks because the server stopped reading is bounded by the final-dot timeout only once the
 *                  write completes (a blocking {@code java.net} write has no timeout)
 * @param dot       the reply to the final {@code .} (§4.5.3.2.6: 10 min)
 */
public record SmtpTimeouts(
        Duration connect,
        Duration greeting,
        Duration command,
        Duration mail,
        Duration rcpt,
        Duration data,
        Duration dataBlock,
        Duration dot) {

    public static final SmtpTimeouts RFC_5321 = new SmtpTimeouts(
            Duration.ofSeconds(30),
            Duration.ofMinutes(5),
            Duration.ofMinutes(5),
            Duration.ofMinutes(5),
            Duration.ofMinutes(5),
            Duration.ofMinutes(2),
            Duration.ofMinutes(3),
            Duration.ofMinutes(10));

    public SmtpTimeouts {
        for (Duration d : new Duration[] {connect, greeting, command, mail, rcpt, data, dataBlock, dot}) {
            Objects.requireNonNull(d, "timeout");
            if (d.isNegative() || d.isZero() || d.toMillis() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("timeout must be between 1 ms and ~24 days: " + d);
            }
        }
    }

    /** The same timeout everywhere (tests). */
    public static SmtpTimeouts all(Duration d) {
        return new SmtpTimeouts(d, d, d, d, d, d, d, d);
    }

    static int millis(Duration d) {
        return (int) d.toMillis();
    }
}
