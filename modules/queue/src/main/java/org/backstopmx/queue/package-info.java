/**
 * The durable queue of one appliance, in H2: {@link org.backstopmx.queue.H2MailQueue} implements
 * {@link org.backstopmx.core.MailQueue}; {@link org.backstopmx.queue.QueueReader} reads a stopped queue.
 *
 * <h2>What it owns</h2>
 * The directory {@code queue.path} (made absolute):
 * <pre>
 *   queue.lock        exclusive lock of the running appliance (holds its pid); shared lock of offline readers
 *   spool/0 .. F/     one spool file per message, named by queue id, in the directory of its 8th hex digit: the
 *                     record of its acceptance (SpoolFile: header, body, envelope, end marker)
 *   queue.mv.db       H2: message, recipient and attempt rows, schema_version (scripts in db/migration/): the
 *                     schedule and the index, rebuilt from the spool where it lacks a message; recipient_cache
 *                     (H2RecipientCache): what the primaries said of addresses, lost by a rebuild and learned again;
 *                     greylist (H2Greylist): the triplets greylisting has seen, pruned as they expire, lost by a
 *                     rebuild (their senders are deferred once more);
 *                     flush_mark (FlushMarks): the flushes whose walk is not done, lost by a rebuild
 *   queue.closed      while stopped: H2's store version at the last clean close (DatabaseGuard)
 *   quarantine/       what the queue could not read and would not delete (Quarantine)
 * </pre>
 * The schema is created and migrated at open ({@code SchemaMigrator}); the due-work index is {@code next_attempt_at}
 * alone (see V1__queue.sql); the two per-domain indexes (V4__backlog.sql) serve the claim that passes over full lanes
 * and the flush walk ({@code ClaimRows}). The counters behind {@link org.backstopmx.core.QueueStats}, and the same per
 * domain, live in memory: no query grows with the backlog on the way from a flush to the first claim.
 *
 * <h2>Life-cycle states it moves</h2>
 * A message enters with every recipient {@code QUEUED}, attempts 0, due at once ({@code Enqueuer}). The administrator's
 * changes ({@code AdminChanges}): {@code delete} removes a message in any state with its history; {@code hold} moves
 * QUEUED and DEFERRED recipients to HELD and {@code release} HELD ones back to QUEUED, due now. The delivering side ({@code Deliveries}, SQL in {@code ClaimRows} and {@code LeaseRows}):
 * <ul>
 * <li>{@code leaseDue} claims due QUEUED/DEFERRED recipients by moving {@code next_attempt_at} to the lease expiry
 *     (and setting {@code lease_until}/{@code lease_owner}), one compare-and-set per row, durable before it returns.
 *     The state does not change: a lease is only a next attempt time in the future, so a holder that dies leaves
 *     the recipient due at the lease's end, after a restart too, never in a tight loop.
 * <li>{@code recordOutcome} moves a leased recipient to the state its {@code RetryPolicy} decision names (DEFERRED,
 *     DELIVERED, FAILED, EXPIRED; checked with {@link org.backstopmx.core.RecipientState#canMoveTo}) as a
 *     compare-and-set on id, state and lease owner (the claim's token, which {@code renewLeases} keeps), writes an {@code attempt} row, and finishes the
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
 * <li>A message whose commit returned is in a complete spool file, fsynced with its directory before its rows were
 *     committed. Startup recovery ({@code StartupRecovery}) re-inserts every complete spool file the database lacks
 *     (at-least-once: a commit that had not returned may come back once), removes files without an end marker (never
 *     acknowledged), moves unreadable ones to {@code quarantine/}, and logs rows without a spool file as errors
 *     (kept for the admin). A database that is missing or empty while the spool holds messages, that H2 cannot
 *     read, or that opens at an older store version than its last clean close recorded stops the open
 *     ({@code DatabaseGuard}); {@link org.backstopmx.queue.QueueRebuild} then builds a new one from the spool.
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
 * <li>A compaction that fails (e.g. no room for the new file) keeps the old file and reopens it.
 * <li>A database H2 has closed by itself (it does so after a failed write of its file, e.g. on a full disk: then
 *     {@code The database has been closed} for every pooled connection), or one that could not be reopened after a
 *     compaction, is <em>lost</em>: work on it fails with UNAVAILABLE ({@code 451 4.3.0}) and the queue reopens it
 *     in-process ({@code QueueDatabase.reopen}): under the same write lock as a compaction, so work in progress
 *     finishes first and work arriving meanwhile waits instead of failing; the dead pool is disposed and the file
 *     opened again exactly as a restart opens it, with {@code IFEXISTS=TRUE}, so a file that went away is never
 *     replaced by an empty database. It keeps what a restart would keep, no less: what the group commit made durable,
 *     while what a failed write left half-written is what H2 discards at a start as well. (Messages answered 250 just before
 *     H2's first failed write were once missing after a reopen: that was H2's file header naming an older chunk,
 *     see {@code H2StoreHeader}.)
 *     The first piece of work that meets a lost database reopens it on the way in; the writability watch tries
 *     every second too (so it comes back with no mail arriving), and after a failed attempt (the file is missing, or
 *     H2 cannot open it) the next is made a second later. Reopening in-process rather than failing liveness for a
 *     restart keeps the sessions and deliveries in flight and avoids a restart loop while the disk stays full; what
 *     a restart would add (startup recovery of spool files without rows) waits for the next start. A database that
 *     cannot be opened at all keeps failing and keeps the queue unready, with the reason.
 * <li>The background threads (the syncer, the maintenance timer, the metrics refresher) survive any failure of a
 *     round, {@link java.lang.Error}s included: it is reported to {@link org.backstopmx.core.Liveness} (logged once
 *     per run of failures, with its cause) and the thread goes on; one stuck beyond its bound, or hit by an error
 *     the process cannot go on after, makes {@code /health/live} fail. Nothing interrupts them: a thread interrupted
 *     inside H2 has its file channel closed by the JDK, which damages the running database. Walking an exception's
 *     causes and suppressed exceptions ({@code StorageFailure}) is bounded: H2's chains contain cycles.
 * </ul>
 *
 * <h2>Whether it takes mail</h2>
 * {@code H2MailQueue.whyNotWritable()} (owned by {@code Writability}) is the one answer behind {@code /health/ready}
 * and the {@code backstop_queue_writable} gauge: not while the queue is closed, its database is lost, the last group
 * commit failed and none has succeeded since, or the usable space is below the free-space reserve
 * ({@code queue.min-free-space}, or 1.5 × {@code smtp.max-message-size}). A watch thread looks every second; while
 * the answer is no it reopens a lost database and, once there is room, runs an empty group-commit round (an fsync)
 * after a failed one, so that every condition but the first clears by itself when its cause is gone. Once the answer
 * is yes again it gives back the leases whose outcome the failure kept from being recorded (their holder has given
 * them up), so that their recipients are due at once, as after a restart, instead of at their lease's end. Each
 * change of the answer is logged once ({@code queue does not take mail: ...}, {@code queue takes mail again}).
 *
 * Nothing else here retries by itself: SMTP senders retry a 4xx, and the maintenance check runs again later.
 */
package org.backstopmx.queue;
