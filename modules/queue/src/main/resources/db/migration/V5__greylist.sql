-- Backstop MX queue schema, version 5: the greylist (screen.greylist). One row per triplet: the client's /24 or /64,
-- the envelope sender and the recipient, in lower case. A row past expires_at is not believed and is pruned.
CREATE TABLE IF NOT EXISTS greylist (
    network     VARCHAR(64) NOT NULL,
    sender      VARCHAR(320) NOT NULL,
    recipient   VARCHAR(320) NOT NULL,
    first_seen  TIMESTAMP(9) WITH TIME ZONE NOT NULL,
    passed_at   TIMESTAMP(9) WITH TIME ZONE,
    expires_at  TIMESTAMP(9) WITH TIME ZONE NOT NULL,
    PRIMARY KEY (network, sender, recipient)
);
CREATE INDEX IF NOT EXISTS greylist_expires ON greylist (expires_at);
