-- Backstop MX queue schema, version 6: what the SPF check of the sender found at intake (SpfResult name: PASS, FAIL,
-- SOFTFAIL, NEUTRAL, NONE, TEMPERROR, PERMERROR), so no DSN goes to a sender that failed it; NULL when no check was
-- made, as for every message of version 3.
ALTER TABLE message ADD COLUMN IF NOT EXISTS spf VARCHAR(16);  -- IF NOT EXISTS: a crash before the version row is written re-runs it
