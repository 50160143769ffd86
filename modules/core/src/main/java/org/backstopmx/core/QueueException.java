package org.backstopmx.core;

/** The queue could not do what was asked. {@link #kind()} says what the SMTP side should answer. */
public class QueueException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why storing failed. */
    public enum Kind {
        /** Not enough disk space: {@code 452 4.3.1}. */
        STORAGE_FULL,
        /** Any other storage or database error: {@code 451 4.3.0}. */
        STORAGE_ERROR,
        /** The queue is closed or in maintenance and did not come back in time: {@code 451 4.3.0}. */
        UNAVAILABLE
    }

    private final Kind kind;

    public QueueException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public QueueException(Kind kind, String message) {
        this(kind, message, null);
    }

    public Kind kind() {
        return kind;
    }
}
