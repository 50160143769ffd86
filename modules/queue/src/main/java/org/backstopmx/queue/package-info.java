/**
 * The durable queue of one appliance, in H2: {@link org.backstopmx.queue.H2MailQueue} implements
 * {@link org.backstopmx.core.MailQueue}; {@link org.backstopmx.queue.QueueReader} reads a stopped queue.
 *
 * <h2>What it owns</h2>
 * The directory {@code queue.path} (made absolute):
 * <pre>
 *   queue.lock        exclusive lock of the running appliance (holds its pid); shared lock of offline readers
 *   queue.mv.db       H2: message, recipient and attempt rows, schema_version (scripts in db/migration/)
 *   spool/0 .. F/     one body file per message, named by queue id, in the directory of its 8th hex digit
 * </pre>
 * The schema is created and migrated at open ({@code SchemaMigrator}); the due-work index is {@code next_attempt_at}
 * alone (see V1__queue.sql). The counters behind {@link org.backstopmx.core.QueueStats} live in memory.
 *
 * <h2>Life-cycle states it moves</h2>
 * A message enters with every recipient {@code QUEUED}, attempts 0, due at once; {@code delete} removes a message in
 * any state with its history. The delivering side ({@code Deliveries}, SQL in {@code LeaseRows}):
 * <ul>
 * <li>{@code leaseDue} claims due QUEUED/DEFERRED recipients by moving {@code next_attempt_at} to the lease expiry
 *     (and setting {@code lease_until}/{@code lease_owner}), one compare-and-set per row, durable before it returns.
 *     The state does not change: a lease is only a next attempt time in the future, so a holder that dies leaves
 *     the recipient due at the lease's end, after a restart too, never in a tight loop.
 * <li>{@code recordOutcome} moves a leased recipient to the state its {@code RetryPolicy} decision names (DEFERRED,
 *     DELIVERED, FAILED, EXPIRED; checked with {@link org.backstopmx.core.RecipientState#canMoveTo}) as a
 *     compare-and-set on id, state, lease owner and lease expiry, writes an {@code attempt} row, and finishes the
 *     message when no recipient is left QUEUED, DEFERRED or HELD: rows and history are deleted in that transaction
 *     and the body file after the fsync. (XXX: keeping finished messages' history for a retention period is not
 *     done yet.) Outcomes for one message are serialised by a lock on its message row.
 * <li>At startup, leases that ran out are cleared and counted in the log; those still running stay, and their
 *     recipients come due at the lease's end.
 * </ul>
 *
 * <h2>Guarantees</h2>
 * <ul>
 * <li>{@code commit} returns only after the body file is fsynced, its rows are committed, and one fsync of its spool
 *     directory and of the database that started after the commit has finished (group commit: one syncer thread
 *     serves every commit waiting at the start of its round). A message whose commit returned survives kill -9
 *     (tested) and, as far as fsync can promise, power loss (not tested: see README, "The queue on H2").
 * <li>A message whose commit did not return leaves nothing once the queue has been opened again: a failing commit
 *     removes its rows and file itself; a process crash leaves at most a body file without rows, which startup
 *     recovery removes. Rows without a body file are logged as errors and kept. XXX: after a power loss, a message
 *     that was never acknowledged can come back as a row whose body file name did not reach the disk (H2 may write
 *     its chunk before the syncer fsyncs the directory); recovery reports it, the admin deletes it.
 * <li>Deletion removes the rows, waits for the group commit, then unlinks the body.
 * <li>A lease or an outcome is committed in its own transaction and returns after a group-commit fsync that started
 *     after it. Losing a compare-and-set is not an error: {@code recordOutcome} returns false and changes nothing.
 * <li>Bounded disk: a maintenance check (every 2000 commits and deletions, every 5 minutes, or {@code maintain()})
 *     compares the database file with H2's estimate of the live data and, when the file is over
 *     {@code queue.compact-ratio} times that and over {@code queue.compact-min-size}, rewrites it offline with fsyncs
 *     ({@code Compactor}). Meanwhile database work waits (up to two minutes) instead of failing.
 * </ul>
 *
 * <h2>Failure modes</h2>
 * <ul>
 * <li>Disk full (ENOSPC in the cause chain, or usable space below what the operation needed):
 *     {@code QueueException} STORAGE_FULL, answered {@code 452 4.3.1}; the sender retries later.
 * <li>Any other I/O or database error: STORAGE_ERROR ({@code 451 4.3.0}); the operation left nothing behind.
 * <li>Closed queue, or a maintenance window longer than two minutes: UNAVAILABLE ({@code 451 4.3.0}).
 *     {@code list}/{@code find}/{@code envelope} throw {@link java.lang.IllegalStateException} instead, since the
 *     interface declares no checked exception for them.
 * <li>Opening a queue another process (or this one) holds: UNAVAILABLE naming the holder's pid. The appliance then
 *     must not start. Opening a {@code QueueReader} while the appliance runs fails the same way: {@code queue list}
 *     on a running appliance goes through its admin API.
 * <li>A compaction that fails (e.g. no room for the new file) keeps the old file and reopens it; a database that
 *     cannot be reopened closes the queue (UNAVAILABLE from then on); {@code H2MailQueue.isUsable()} says so, for the
 *     readiness check.
 * <li>The background threads (the syncer, the maintenance timer, the metrics refresher) survive any failure of a
 *     round, {@link java.lang.Error}s included: it is reported to {@link org.backstopmx.core.Liveness} (logged once
 *     per run of failures, with its cause) and the thread goes on; one stuck beyond its bound, or hit by an error
 *     the process cannot go on after, makes {@code /health/live} fail. Nothing interrupts them: a thread interrupted
 *     inside H2 has its file channel closed by the JDK, which damages the running database. Walking an exception's
 *     causes and suppressed exceptions ({@code StorageFailure}) is bounded: H2's chains contain cycles.
 * </ul>
 * Nothing here retries by itself: SMTP senders retry a 4xx, and the maintenance check runs again later.
 */
package org.backstopmx.queue;
