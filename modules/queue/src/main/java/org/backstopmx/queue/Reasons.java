package org.backstopmx.queue;

/** Failures told in one short line, for log lines and the readiness answer: H2's own messages run to a paragraph. */
final class Reasons {
    private static final int MAX = 200;

    private Reasons() {
    }

    /**
     * The innermost cause (where the operating system's words are, such as {@code No space left on device}) with its
     * class's simple name; at most 200 characters, on one line. Cycles in the chain are followed once.
     */
    static String brief(Throwable t) {
        if (t == null) {
            return "unknown";
        }
        java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        Throwable root = t;
        while (root.getCause() != null && seen.add(root)) {
            root = root.getCause();
        }
        String text = root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
        text = text.replaceAll("\\s+", " ").trim();
        return text.length() <= MAX ? text : text.substring(0, MAX - 3) + "...";
    }
}
