-- The first schema: import runs and their diagnostics, organisations, activities with their
-- children, the funding ledger and codelist overrides. Tables are STRICT so that no value can
-- silently become a float: money and percentages are TEXT holding the exact decimal as given.
-- CHECK constraints spell out `x = 'a' OR x = 'b'` rather than `x IN ('a', 'b')`: SQLite checks
-- the IN form far more slowly, which doubled the cost of writing the ledger.

CREATE TABLE import_run (
    id INTEGER PRIMARY KEY,
    file TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL CHECK (status = 'ok' OR status = 'failed'),
    bytes INTEGER NOT NULL,
    activities INTEGER NOT NULL DEFAULT 0,
    activities_skipped INTEGER NOT NULL DEFAULT 0,
    activities_replaced INTEGER NOT NULL DEFAULT 0,
    organisations INTEGER NOT NULL DEFAULT 0,
    transactions INTEGER NOT NULL DEFAULT 0,
    budgets INTEGER NOT NULL DEFAULT 0,
    diagnostics INTEGER NOT NULL DEFAULT 0,
    message TEXT
) STRICT;

CREATE TABLE diagnostic (
    id INTEGER PRIMARY KEY,
    import_run_id INTEGER NOT NULL REFERENCES import_run (id) ON DELETE CASCADE,
    severity TEXT NOT NULL CHECK (severity = 'fatal' OR severity = 'error' OR severity = 'warning'),
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    file TEXT NOT NULL,
    line INTEGER NOT NULL,
    "column" INTEGER NOT NULL,
    path TEXT NOT NULL,
    record TEXT
) STRICT;
CREATE INDEX diagnostic_import_run ON diagnostic (import_run_id);

-- An organisation is known by its IATI identifier where it has one. Rows come from the refs
-- of reporting and participating organisations, and from organisation-file records, which
-- alone carry raw_xml, names in every language and budgets.
CREATE TABLE organisation (
    id INTEGER PRIMARY KEY,
    ref TEXT UNIQUE,
    type TEXT,
    name TEXT,
    default_currency TEXT,
    default_lang TEXT,
    last_updated TEXT,
    faults INTEGER NOT NULL DEFAULT 0,
    flagged INTEGER NOT NULL DEFAULT 0,
    raw_xml BLOB,
    import_run_id INTEGER REFERENCES import_run (id)
) STRICT;

CREATE TABLE organisation_name (
    id INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisation (id) ON DELETE CASCADE,
    lang TEXT,
    text TEXT NOT NULL
) STRICT;
CREATE INDEX organisation_name_organisation ON organisation_name (organisation_id);

-- Budgets and expenditures of organisation files; `element` says which
-- (total-budget, total-expenditure, recipient-org-budget, ...).
CREATE TABLE organisation_budget (
    id INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisation (id) ON DELETE CASCADE,
    element TEXT NOT NULL,
    status TEXT,
    period_start TEXT,
    period_end TEXT,
    value TEXT,
    currency TEXT,
    value_date TEXT,
    recipient TEXT
) STRICT;
CREATE INDEX organisation_budget_organisation ON organisation_budget (organisation_id);

CREATE TABLE activity (
    id INTEGER PRIMARY KEY,
    iati_identifier TEXT NOT NULL UNIQUE,
    reporting_org_ref TEXT,
    reporting_org_type TEXT,
    reporting_org_name TEXT,
    default_currency TEXT,
    default_lang TEXT,
    hierarchy INTEGER,
    status TEXT,
    -- The actual date where given, else the planned one; every date is in activity_date.
    start_date TEXT,
    end_date TEXT,
    collaboration_type TEXT,
    default_flow_type TEXT,
    default_finance_type TEXT,
    default_tied_status TEXT,
    humanitarian INTEGER,
    last_updated TEXT,
    faults INTEGER NOT NULL DEFAULT 0,
    flagged INTEGER NOT NULL DEFAULT 0,
    import_run_id INTEGER NOT NULL REFERENCES import_run (id)
) STRICT;
CREATE INDEX activity_import_run ON activity (import_run_id);

-- The activity's XML exactly as published, about 11 KB each. It lives apart from `activity` so
-- that scanning activities reads a few hundred bytes per row, not the whole document.
CREATE TABLE activity_xml (
    activity_id INTEGER PRIMARY KEY REFERENCES activity (id) ON DELETE CASCADE,
    raw_xml BLOB NOT NULL
) STRICT;

-- The tables of an activity's repeated elements are keyed by (activity_id, position), the
-- element's place in the activity, which keeps the published order and, in SQLite, stores
-- the rows clustered by activity without a second index.

-- Titles and descriptions in every language. `element_index` tells apart the narratives of
-- several description elements; a title has one element, index 0.
CREATE TABLE activity_narrative (
    activity_id INTEGER NOT NULL REFERENCES activity (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    element TEXT NOT NULL CHECK (element = 'title' OR element = 'description'),
    element_index INTEGER NOT NULL,
    description_type TEXT,
    lang TEXT,
    text TEXT NOT NULL,
    PRIMARY KEY (activity_id, position)
) STRICT, WITHOUT ROWID;

CREATE TABLE activity_default_aid_type (
    activity_id INTEGER NOT NULL REFERENCES activity (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    code TEXT NOT NULL,
    vocabulary TEXT,
    PRIMARY KEY (activity_id, position)
) STRICT, WITHOUT ROWID;

CREATE TABLE participating_org (
    activity_id INTEGER NOT NULL REFERENCES activity (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    role TEXT,
    type TEXT,
    ref TEXT,
    activity_identifier TEXT,
    crs_channel_code TEXT,
    name TEXT,
    PRIMARY KEY (activity_id, position)
) STRICT, WITHOUT ROWID;

CREATE TABLE activity_date (
    activity_id INTEGER NOT NULL REFERENCES activity (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    type TEXT NOT NULL,
    date TEXT NOT NULL,
    PRIMARY KEY (activity_id, position)
) STRICT, WITHOUT ROWID;

CREATE TABLE recipient_country (
    activity_id INTEGER NOT NULL REFERENCES activity (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    code TEXT NOT NULL,
    percentage TEXT,
    PRIMARY KEY (activity_id, position)
) STRICT, WITHOUT ROWID;

CREATE TABLE recipient_region (
    activity_id INTEGER NOT NULL REFERENCES activity (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    code TEXT NOT NULL,
    vocabulary TEXT,
    percentage TEXT,
    PRIMARY KEY (activity_id, position)
) STRICT, WITHOUT ROWID;

CREATE TABLE sector (
    activity_id INTEGER NOT NULL REFERENCES activity (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    code TEXT NOT NULL,
    vocabulary TEXT,
    percentage TEXT,
    PRIMARY KEY (activity_id, position)
) STRICT, WITHOUT ROWID;

CREATE TABLE related_activity (
    activity_id INTEGER NOT NULL REFERENCES activity (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    type TEXT,
    iati_identifier TEXT NOT NULL,
    PRIMARY KEY (activity_id, position)
) STRICT, WITHOUT ROWID;

CREATE TABLE budget (
    id INTEGER PRIMARY KEY,
    activity_id INTEGER NOT NULL REFERENCES activity (id) ON DELETE CASCADE,
    type TEXT,
    status TEXT,
    period_start TEXT,
    period_end TEXT,
    value TEXT,
    currency TEXT,
    value_date TEXT
) STRICT;
CREATE INDEX budget_activity ON budget (activity_id);

-- `type` is the IATI 2.0x TransactionType code; `type_as_written` keeps a legacy code.
CREATE TABLE "transaction" (
    id INTEGER PRIMARY KEY,
    activity_id INTEGER NOT NULL REFERENCES activity (id) ON DELETE CASCADE,
    ref TEXT,
    type TEXT,
    type_as_written TEXT,
    date TEXT,
    value TEXT,
    currency TEXT,
    value_date TEXT,
    provider_org_ref TEXT,
    provider_org_type TEXT,
    provider_org_name TEXT,
    provider_activity_identifier TEXT,
    receiver_org_ref TEXT,
    receiver_org_type TEXT,
    receiver_org_name TEXT,
    receiver_activity_identifier TEXT,
    description TEXT,
    flow_type TEXT,
    finance_type TEXT,
    tied_status TEXT,
    aid_type TEXT,
    aid_type_vocabulary TEXT,
    humanitarian INTEGER
) STRICT;
CREATE INDEX transaction_activity ON "transaction" (activity_id);

-- The funding ledger: every amount of money with its provenance. Amounts are exactly as given;
-- the USD columns stay NULL until a rate is known, and `conversion_status` says why.
CREATE TABLE ledger_entry (
    id INTEGER PRIMARY KEY,
    activity_id INTEGER REFERENCES activity (id) ON DELETE CASCADE,
    source_table TEXT NOT NULL,
    source_id INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (
        kind = 'pledge' OR kind = 'commitment' OR kind = 'receipt' OR kind = 'disbursement'
        OR kind = 'expenditure' OR kind = 'budget' OR kind = 'other'
    ),
    direction TEXT CHECK (direction = 'incoming' OR direction = 'outgoing'),
    partner_ref TEXT,
    modality TEXT,
    date TEXT,
    amount TEXT NOT NULL,
    currency TEXT,
    usd_amount TEXT,
    usd_rate TEXT,
    rate_date TEXT,
    rate_source TEXT,
    conversion_status TEXT NOT NULL CHECK (
        conversion_status = 'converted' OR conversion_status = 'no_rate'
        OR conversion_status = 'no_currency'
    )
) STRICT;
CREATE INDEX ledger_entry_activity ON ledger_entry (activity_id);

CREATE TABLE codelist (
    name TEXT PRIMARY KEY,
    xml BLOB NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
