-- API tokens: each belongs to a staff user and carries that user's role into the JSON API
-- (`Authorization: Bearer`). Only the SHA-256 of a token is kept, so a copy of the database
-- opens nothing; the first characters are kept as they are so that a list can tell tokens
-- apart. A revoked token stays listed (with when it was revoked) and opens nothing.

CREATE TABLE api_token (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES staff_user (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    token_prefix TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
) STRICT;
CREATE INDEX api_token_user ON api_token (user_id);
