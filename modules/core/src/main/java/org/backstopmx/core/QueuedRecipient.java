package org.backstopmx.core;

import java.time.Instant;

/** A recipient as the queue holds it now: for listings and, later, for the forwarder. */
public record QueuedRecipient(
        String address,
        RecipientState state,
        int attempts,
        Instant nextAttemptAt,
        String lastReply) {
}
