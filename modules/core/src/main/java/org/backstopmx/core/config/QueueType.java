package org.backstopmx.core.config;

import java.util.Locale;

/** Which queue holds the mail: {@code queue.type}. */
public enum QueueType {
    /** The embedded H2 queue in {@code queue.path}, for one node (the default). */
    H2,
    /** The queue shared by several nodes on one PostgreSQL database ({@code queue.url}). */
    POSTGRESQL;

    /** The name as written in the configuration. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
