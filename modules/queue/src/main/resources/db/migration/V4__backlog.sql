-- Backstop MX queue schema, version 4: a big backlog costs no more per flush, claim or gauge than a small one.

-- Per domain, in the order its recipients come due. It serves the claim that passes over destinations whose lanes are
-- full (one range per other domain instead of a walk over the full lanes' due rows) and the flush walk below. It
-- starts with domain, so the due-work query cannot use it for its range on next_attempt_at and keeps reading
-- recipient_due (see V1__queue.sql; DeliveryTest checks both plans with EXPLAIN).
CREATE INDEX IF NOT EXISTS recipient_domain ON recipient (domain, next_attempt_at);

-- A flush (ETRN, a destination back up, queue flush DOMAIN) as one row instead of a rewrite of every recipient row:
-- every QUEUED or DEFERRED recipient of the domain not attempted since flushed_at (and not leased) is due, and the
-- claim walks them through recipient_domain. The row goes when the walk finds nothing left.
CREATE TABLE IF NOT EXISTS flush_mark (
    domain      VARCHAR(255) NOT NULL PRIMARY KEY,
    flushed_at  TIMESTAMP(9) WITH TIME ZONE NOT NULL
);
