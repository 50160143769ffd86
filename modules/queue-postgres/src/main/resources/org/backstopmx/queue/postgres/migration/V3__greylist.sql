-- Backstop MX shared queue schema, version 3: the greylist (screen.greylist), shared by every node, so that a
-- sender's retry passes whichever node it reaches. One row per triplet: the client's /24 or /64, the envelope sender
-- and the recipient, in lower case. A row past expires_at is not believed and is pruned.
CREATE TABLE greylist (
    network     VARCHAR(64) NOT NULL,
    sender      VARCHAR(320) NOT NULL,
    recipient   VARCHAR(320) NOT NULL,
    first_seen  TIMESTAMPTZ NOT NULL,
    passed_at   TIMESTAMPTZ,
    expires_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (network, sender, recipient)
);
CREATE INDEX greylist_expires ON greylist (expires_at);
