-- The staff workspace: accounts with their role and argon2id password hash, server-side
-- sessions (only the SHA-256 of each token is kept, so a copy of the database opens no
-- session), login attempts for the rate limit and the lock-out (counted here, never in a
-- server's memory, so that many servers share them), the audit log, and who an inquiry is
-- assigned to. Timestamps are RFC 3339 UTC text, as everywhere else.

CREATE TABLE staff_user (
    id INTEGER PRIMARY KEY,
    -- Lower-cased, so that one address is one account whatever its spelling.
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role = 'viewer' OR role = 'officer' OR role = 'admin'),
    created_at TEXT NOT NULL,
    password_changed_at TEXT NOT NULL,
    -- Failures since the last success or lock-out; reaching the limit locks the account.
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT
) STRICT;

CREATE TABLE staff_session (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES staff_user (id) ON DELETE CASCADE,
    -- The token every form of the session carries; it guards against forged requests, not
    -- against someone holding the database, so it is kept as is.
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;
CREATE INDEX staff_session_user ON staff_session (user_id);

CREATE TABLE login_attempt (
    id INTEGER PRIMARY KEY,
    address TEXT NOT NULL,
    email TEXT NOT NULL,
    at TEXT NOT NULL,
    succeeded INTEGER NOT NULL
) STRICT;
CREATE INDEX login_attempt_address_at ON login_attempt (address, at);

-- One row per change made through the staff workspace or the `user` command: who, when, what
-- (entity kind and key), the action, and the record before and after as JSON (NULL when the
-- record did not exist before, or no longer exists after).
CREATE TABLE audit_event (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    entity_kind TEXT NOT NULL,
    entity_key TEXT NOT NULL,
    action TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT
) STRICT;
CREATE INDEX audit_event_at ON audit_event (at);

-- The e-mail address of the staff user following the inquiry up, if anyone is.
ALTER TABLE inquiry ADD COLUMN assigned_to TEXT;
