-- The contact form's rate limit: one row per inquiry a client address sent (stored or caught by
-- the trap field), so that every server sharing the database counts the same sends. Times are
-- milliseconds since 1970 in UTC, compared as numbers; rows older than the longest window are
-- removed as new ones arrive. The reference shown to the sender is the inquiry's key,
-- `INQ-YYYY-NNNNNN` from the row's id, so the inquiry table itself needs no change.
CREATE TABLE inquiry_attempt (
    id INTEGER PRIMARY KEY,
    client_address TEXT NOT NULL,
    at_millis INTEGER NOT NULL
) STRICT;
CREATE INDEX inquiry_attempt_client ON inquiry_attempt (client_address, at_millis);
CREATE INDEX inquiry_attempt_time ON inquiry_attempt (at_millis);
