package org.backstopmx.queue;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Set;
import org.backstopmx.core.QueueException;

/**
 * Turns a storage exception into the {@link QueueException} the SMTP side answers with: {@code STORAGE_FULL}
 * ({@code 452 4.3.1}) when the disk is full, {@code STORAGE_ERROR} ({@code 451 4.3.0}) for anything else.
 */
final class StorageFailure {
    private StorageFailure() {
    }

    /**
     * @param needed bytes the failed operation needed; usable space below it also counts as "full", because H2 wraps
     *               ENOSPC in its own exceptions and the text of the cause is not always kept
     */
    static QueueException of(String what, Throwable cause, DiskSpace disk, long needed) {
        if (mentionsNoSpace(cause) || disk.usable() < needed) {
            return new QueueException(QueueException.Kind.STORAGE_FULL, what + ": no space left on the queue's disk",
                    cause);
        }
        return new QueueException(QueueException.Kind.STORAGE_ERROR, what + ": " + cause, cause);
    }

    static QueueException unavailable(String what) {
        return new QueueException(QueueException.Kind.UNAVAILABLE, what + ": the queue is closed");
    }

    /** How many throwables {@link #mentionsNoSpace} looks at, at most, in one chain (causes and suppressed). */
    static final int MAX_EXAMINED = 100;

    /**
     * ENOSPC and EDQUOT as the JDK renders them (strerror text), anywhere among the causes and suppressed exceptions.
     *
     * <p>H2's exceptions form cycles (a cause whose suppressed list holds an exception that has it as a cause): the
     * walk visits each throwable once, by identity, and at most {@value #MAX_EXAMINED} in all, without recursion, so
     * no chain can overflow the stack or keep the walk going.
     */
    static boolean mentionsNoSpace(Throwable t) {
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        Deque<Throwable> next = new ArrayDeque<>();
        if (t != null) {
            next.add(t);
        }
        while (!next.isEmpty() && seen.size() < MAX_EXAMINED) {
            Throwable x = next.poll();
            if (!seen.add(x)) {
                continue;
            }
            String m = x.getMessage();
            if (m != null) {
                String lower = m.toLowerCase(Locale.ROOT);
                if (lower.contains("no space left on device") || lower.contains("disk quota exceeded")) {
                    return true;
                }
            }
            if (x.getCause() != null) {
                next.add(x.getCause());
            }
            next.addAll(Arrays.asList(x.getSuppressed()));
        }
        return false;
    }
}
