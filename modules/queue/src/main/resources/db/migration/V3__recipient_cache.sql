-- Backstop MX queue schema, version 3: what the primaries said about recipients (recipient-check: callout).
-- One row per address (lower case); a row past expires_at is not believed and is removed when the sizes are counted.
CREATE TABLE IF NOT EXISTS recipient_cache (
    address     VARCHAR(320) NOT NULL PRIMARY KEY,
    domain      VARCHAR(255) NOT NULL,
    valid       BOOLEAN NOT NULL,
    reply       VARCHAR(1000),
    learned_at  TIMESTAMP(9) WITH TIME ZONE NOT NULL,
    expires_at  TIMESTAMP(9) WITH TIME ZONE NOT NULL,
    source      VARCHAR(16) NOT NULL
);
CREATE INDEX IF NOT EXISTS recipient_cache_domain ON recipient_cache (domain, address);
