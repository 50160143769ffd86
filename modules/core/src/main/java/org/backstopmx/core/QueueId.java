package org.backstopmx.core;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * The identifier of one queued message, like Postfix's queue id: 16 upper-case hex digits, the first 11 the
 * arrival time in milliseconds, the last 5 a per-process sequence, so ids sort by arrival and are unique within a
 * process (a restart moves the clock on). It names the body file in the spool and appears in every log line.
 *
 * <p>The sequence starts at a random place in each process, so that nodes sharing one queue seldom make the same id
 * in the same millisecond (one in 2^20 such pairs); when they do, the second commit is refused with a 4xx and the
 * client sends again: nothing is lost. XXX: a node part in the id would rule it out, at the cost of the format.
 */
public record QueueId(String value) implements Comparable<QueueId> {
    private static final Pattern FORMAT = Pattern.compile("[0-9A-F]{16}");
    private static final AtomicLong SEQUENCE = new AtomicLong(new SecureRandom().nextInt(1 << 20));

    public QueueId {
        Objects.requireNonNull(value, "value");
        if (!FORMAT.matcher(value).matches()) {
            throw new IllegalArgumentException("not a queue id: " + value);
        }
    }

    /** A new id from the given clock. */
    public static QueueId next(Clock clock) {
        long seq = SEQUENCE.getAndIncrement() & 0xFFFFF;
        return new QueueId(String.format("%011X%05X", clock.millis() & 0xFFFFFFFFFFFL, seq));
    }

    /** Whether {@code text} has the shape of a queue id. */
    public static boolean isValid(String text) {
        return text != null && FORMAT.matcher(text).matches();
    }

    @Override
    public int compareTo(QueueId other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
