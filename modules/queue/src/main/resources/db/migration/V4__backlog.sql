-- Backstop MX queue schema, version 4: a big backlog costs no more per flush, claim or gauge than a small one.

-- Both indexes start with domain, so the due-work query cannot use them for its range on next_attempt_at and keeps
-- reading recipient_due (see V1__queue.sql; FlushWalkTest checks the plans with EXPLAIN).

-- Per domain, in the order its recipients come due: the claim that passes over destinations whose lanes are full
-- asks each other domain for its due recipients, instead of walking every due row of the full lanes.
CREATE INDEX IF NOT EXISTS recipient_domain ON recipient (domain, next_attempt_at);
-- Per domain, in arrival order: the flush walk below.
CREATE INDEX IF NOT EXISTS recipient_domain_walk ON recipient (domain, id);

-- A flush (ETRN, a destination back up, queue flush DOMAIN) as one row instead of a rewrite of every recipient row:
-- the claim walks the domain's recipients in recipient_domain_walk from the cursor on, leasing every QUEUED or
-- DEFERRED one not leased already, so each is made due once per flush; the cursor is the last recipient id walked.
-- The row goes when the walk reaches the end.
CREATE TABLE IF NOT EXISTS flush_mark (
    domain      VARCHAR(255) NOT NULL PRIMARY KEY,
    flushed_at  TIMESTAMP(9) WITH TIME ZONE NOT NULL,
    walked_to   BIGINT NOT NULL DEFAULT 0
);
