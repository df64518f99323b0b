-- One-time links that let a staff user set their password: the welcome link of an account
-- added without one, and the reset link an administrator issues for an existing account.
-- Only the SHA-256 of the link's 256-bit token is kept, as for sessions, so a copy of the
-- database opens no link. A link works once (`used_at`), until `expires_at`, and only while
-- its account is enabled. Timestamps are RFC 3339 UTC text, as everywhere else.
CREATE TABLE staff_link (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES staff_user (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose = 'welcome' OR purpose = 'reset'),
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX staff_link_user ON staff_link (user_id);
