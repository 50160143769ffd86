package org.backstopmx.core;

import java.time.Instant;
import java.util.List;

/** A message as the queue holds it now, with its recipients: one entry of {@code queue list}. */
public record QueuedMessage(
        QueueId id,
        Instant receivedAt,
        long size,
        String sender,
        String clientAddress,
        List<QueuedRecipient> recipients) {

    public QueuedMessage {
        recipients = List.copyOf(recipients);
    }
}
