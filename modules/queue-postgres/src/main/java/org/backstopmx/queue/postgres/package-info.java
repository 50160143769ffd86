/**
 * The queue on PostgreSQL, shared by several Backstop nodes: the second implementation of
 * {@link org.backstopmx.core.MailQueue}, beside the H2 one in {@code org.backstopmx.queue} (one node, the default).
 *
 * <h2>What it owns</h2>
 * One database (schema by Flyway, {@code migration/V*__*.sql} beside these classes): {@code message},
 * {@code body_chunk} (the body in rows of 256 KiB, streamed in as DATA arrives and out one chunk per read),
 * {@code recipient} (state, schedule, lease holder and end) and {@code attempt} (history, with the node that made
 * each attempt), and {@code recipient_cache} (the callout answers, which every node believes). Nothing is kept on
 * the node's disk: a node that is lost strands no mail.
 *
 * <h2>States it may move</h2>
 * Those of {@link org.backstopmx.core.RecipientState}, only as the {@code MailQueue} contract says: QUEUED/DEFERRED to
 * any successor by {@code recordOutcome} (a compare-and-set on state and the claim's token, which {@code renewLeases} keeps), QUEUED/DEFERRED to HELD
 * and back by the admin. Due work is claimed with {@code SELECT ... FOR UPDATE SKIP LOCKED} on the partial due index,
 * so nodes claiming at once get disjoint recipients without waiting; a claim moves the next attempt to the lease's
 * end, so a recipient whose holder died is due again there and any node takes it.
 *
 * <h2>Failure modes</h2>
 * <ul>
 * <li>The database cannot be reached: every call fails with {@code QueueException} UNAVAILABLE within the pool's
 *     connection timeout (5 s); the SMTP side answers 451 4.3.0, never 250. The pool reconnects when it is back.
 * <li>The database's packets are dropped (a partition): a call already under way fails within the driver's socket
 *     timeout (30 s) or, for a blocked write, when {@code Watchdog} aborts its connection (45 s); new calls fail within
 *     the connection timeout. See {@code PostgresDatabase} for every bound.
 * <li>The database's disk is full: STORAGE_FULL (452 4.3.1); any other SQL error: STORAGE_ERROR (451 4.3.0).
 * <li>A message's transaction (chunks and rows) is committed before {@code commit} returns, with
 *     {@code synchronous_commit = on}; anything that fails before rolls all of it back.
 * <li>A node dies: nobody renews its leases, they run out at their end and other nodes take the recipients; at its
 *     next start it gives back at once the leases still under its id. At-least-once: a recipient is delivered twice only when a node dies
 *     between the primary's 250 and the commit of the outcome.
 * <li>Claims, renewals and give-backs commit without waiting for the WAL flush: a database crash may lose a claim,
 *     making a recipient due while its attempt runs (a second delivery across that crash, as above).
 * </ul>
 * XXX: queue ids are unique per process only (milliseconds and a sequence from 0): two nodes may draw the same id in
 * the same millisecond. The second commit then fails on the primary key and is answered 451 (the client sends again,
 * under a new id): no mail is lost or mixed, but the id needs a node part.
 * XXX: not yet here: retention of finished messages' history (as in the H2 queue, finished messages go at once).
 */
package org.backstopmx.queue.postgres;
