-- Staff operations: the outbox of notification e-mails, import jobs started from the browser,
-- and disabled accounts. Timestamps are RFC 3339 UTC text, as everywhere else.

-- One row per message and recipient. A message is written here in the same transaction as the
-- change it tells of, so nothing is lost when the mail server is down; a sender on any server
-- claims pending rows (`claimed_until` keeps two senders off one row), delivers them, and marks
-- them sent or records the error and the time of the next attempt. Without SMTP the rows stay
-- pending and administrators read them in the workspace.
CREATE TABLE outbox_message (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    -- The record the message is about, such as an inquiry's key.
    about TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state = 'pending' OR state = 'sent'),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_until TEXT,
    sent_at TEXT,
    last_error TEXT
) STRICT;
CREATE INDEX outbox_message_due ON outbox_message (state, next_attempt_at);

-- An import started from the browser: one or more uploaded files run one after the other
-- through the same pipeline as `coopfolio import iati`. Its progress lives here, not in the
-- memory of the server that runs it, so that any server shows it.
CREATE TABLE import_job (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state = 'queued' OR state = 'running' OR state = 'finished' OR state = 'failed'),
    bytes_total INTEGER NOT NULL,
    bytes_done INTEGER NOT NULL DEFAULT 0,
    files_total INTEGER NOT NULL,
    files_done INTEGER NOT NULL DEFAULT 0,
    files_failed INTEGER NOT NULL DEFAULT 0,
    activities INTEGER NOT NULL DEFAULT 0,
    organisations INTEGER NOT NULL DEFAULT 0,
    transactions INTEGER NOT NULL DEFAULT 0,
    budgets INTEGER NOT NULL DEFAULT 0,
    diagnostics INTEGER NOT NULL DEFAULT 0,
    -- Written as the job runs; a running job whose heartbeat stops was cut off with its server.
    updated_at TEXT NOT NULL,
    finished_at TEXT,
    message TEXT
) STRICT;

-- The files of a job in upload order, each with the import run that recorded it once done.
CREATE TABLE import_job_file (
    job_id INTEGER NOT NULL REFERENCES import_job (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    file_name TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    import_run_id INTEGER REFERENCES import_run (id) ON DELETE SET NULL,
    PRIMARY KEY (job_id, position)
) STRICT;

-- Set while an account is disabled: it cannot log in and has no sessions.
ALTER TABLE staff_user ADD COLUMN disabled_at TEXT;

CREATE INDEX login_attempt_at ON login_attempt (at);
