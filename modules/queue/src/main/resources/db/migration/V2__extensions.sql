-- Backstop MX queue schema, version 2: the SMTP extensions a message needs from the server it is relayed to.
-- MailExtension keywords separated by commas (SMTPUTF8, 8BITMIME); NULL for none, as every message of version 1.
ALTER TABLE message ADD COLUMN IF NOT EXISTS extensions VARCHAR(64);  -- IF NOT EXISTS: a crash before the version row is written re-runs it
