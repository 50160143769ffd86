package org.backstopmx.queue;

import java.util.Locale;
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

    /**
     * ENOSPC and EDQUOT as the JDK renders them (strerror text), anywhere in the cause chain or among the suppressed
     * exceptions. H2's exceptions refer to each other in cycles (a cause's suppressed exception has the first as its
     * cause), so each throwable is looked at once.
     */
    static boolean mentionsNoSpace(Throwable t) {
        java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        java.util.Deque<Throwable> todo = new java.util.ArrayDeque<>();
        if (t != null) {
            todo.add(t);
        }
        while (!todo.isEmpty() && seen.size() < 100) {
            Throwable next = todo.poll();
            if (!seen.add(next)) {
                continue;
            }
            String m = next.getMessage();
            if (m != null) {
                String lower = m.toLowerCase(Locale.ROOT);
                if (lower.contains("no space left on device") || lower.contains("disk quota exceeded")) {
                    return true;
                }
            }
            if (next.getCause() != null) {
                todo.add(next.getCause());
            }
            todo.addAll(java.util.Arrays.asList(next.getSuppressed()));
        }
        return false;
    }
}
