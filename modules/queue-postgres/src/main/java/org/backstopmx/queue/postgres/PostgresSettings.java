package org.backstopmx.queue.postgres;

import java.util.Objects;

/**
 * How one node reaches the shared queue.
 *
 * @param url      {@code queue.url}: the JDBC URL, {@code jdbc:postgresql://host:port/database}
 * @param username {@code queue.username}, or null for the driver's default
 * @param password the contents of {@code queue.password-file}, or null for none (trust or certificate login)
 * @param nodeId   {@code queue.node-id}: this node's name in the queue, unique among the nodes (default: the host
 *                 name). Leases, attempts and messages name it; at startup and at close the node gives back the leases
 *                 under its own name, so two nodes with one name would take each other's running leases.
 * @param poolSize the most database connections this node holds; each message larger than one chunk holds one while
 *                 its DATA arrives
 */
public record PostgresSettings(String url, String username, String password, String nodeId, int poolSize) {
    /** The most characters of a node id (the lease_owner column). */
    public static final int MAX_NODE_ID = 64;
    public static final int DEFAULT_POOL_SIZE = 16;

    public PostgresSettings {
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(nodeId, "nodeId");
        if (!url.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("queue.url must be a jdbc:postgresql: URL: " + url);
        }
        if (nodeId.isBlank() || nodeId.length() > MAX_NODE_ID) {
            throw new IllegalArgumentException("queue.node-id must be 1 to " + MAX_NODE_ID + " characters: " + nodeId);
        }
        if (poolSize < 2) {
            throw new IllegalArgumentException("the pool needs at least 2 connections: " + poolSize);
        }
    }

    public PostgresSettings(String url, String username, String password, String nodeId) {
        this(url, username, password, nodeId, DEFAULT_POOL_SIZE);
    }

    @Override
    public String toString() {
        return "PostgresSettings[url=" + url + ", username=" + username + ", nodeId=" + nodeId + ", poolSize="
                + poolSize + "]"; // never the password
    }
}
