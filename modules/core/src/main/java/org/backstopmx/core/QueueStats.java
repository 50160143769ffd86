package org.backstopmx.core;

import java.util.EnumMap;
import java.util.Map;

/**
 * Counts kept by the queue as it changes (never a {@code COUNT(*)} per call).
 *
 * @param messages   messages with at least one pending recipient
 * @param bytes      the sum of their body sizes
 * @param recipients pending and finished recipients still in the queue, by state
 */
public record QueueStats(long messages, long bytes, Map<RecipientState, Long> recipients) {
    public QueueStats {
        EnumMap<RecipientState, Long> copy = new EnumMap<>(RecipientState.class);
        for (RecipientState s : RecipientState.values()) {
            copy.put(s, recipients.getOrDefault(s, 0L));
        }
        recipients = Map.copyOf(copy);
    }

    public long recipients(RecipientState state) {
        return recipients.get(state);
    }
}
