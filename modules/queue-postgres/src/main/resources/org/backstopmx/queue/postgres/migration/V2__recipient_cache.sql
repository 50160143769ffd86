-- Backstop MX shared queue on PostgreSQL, version 2: what the primaries said about recipients (recipient-check:
-- callout), shared by the nodes as the H2 queue keeps it per node. One row per address (lower case); a row past
-- expires_at is not believed and is removed when the sizes are counted.
CREATE TABLE recipient_cache (
    address     varchar(320)  NOT NULL PRIMARY KEY,
    domain      varchar(255)  NOT NULL,
    valid       boolean       NOT NULL,
    reply       varchar(1000),
    learned_at  timestamptz   NOT NULL,
    expires_at  timestamptz   NOT NULL,
    source      varchar(16)   NOT NULL
);
CREATE INDEX recipient_cache_domain ON recipient_cache (domain, address);
