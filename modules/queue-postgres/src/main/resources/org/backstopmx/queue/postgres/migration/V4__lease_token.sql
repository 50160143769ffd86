-- Backstop MX shared queue schema, version 4: each lease carries the token of its claim, so that a lease can be
-- renewed (its end moved) while its holder still records under it. Every compare-and-set on a lease (an outcome, a
-- give-back, a renewal) compares the recipient, its state and this token, never lease_until; a new claim draws a new
-- token. lease_owner stays the node holding the lease: a node gives back its own by it at startup and at close.
-- A lease running while this is applied has no token: its holder's outcome is not recorded and the recipient is
-- tried again when its lease ends (at-least-once, as after a node's death).
ALTER TABLE recipient ADD COLUMN lease_token varchar(36);
