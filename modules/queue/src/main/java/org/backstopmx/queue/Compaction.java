package org.backstopmx.queue;

import java.time.Duration;

/**
 * One offline compaction of the queue database.
 *
 * @param sizeBefore   bytes of {@code queue.mv.db} before
 * @param sizeAfter    bytes after
 * @param liveEstimate the estimate of live data that made it due (H2's approximate size of our tables)
 * @param took         how long the database was offline (deliveries and admin work waited; receivers did not)
 */
public record Compaction(long sizeBefore, long sizeAfter, long liveEstimate, Duration took) {
}
