-- The partnership model: partners with their derived group and roll-up, agreements with their
-- partners' shares, instalments and earmarking, multi-stakeholder partnerships, inquiries and
-- their pipeline, what the organisation adds to its activities, stored exchange rates and
-- settings. Money is TEXT holding the exact decimal, as in 0001; flags are 0 or 1.

CREATE TABLE partner (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    name_en TEXT NOT NULL,
    name_fr TEXT NOT NULL,
    name_es TEXT NOT NULL,
    iati_ref TEXT,
    organisation_type TEXT,
    country TEXT,
    -- The group in force: group_override when set, else the one the rules derived. It is stored
    -- so that figures group by a column instead of re-running the rules on every row.
    partner_group TEXT NOT NULL,
    group_override TEXT,
    -- The rule that derived the group, in words, or 'set by hand'.
    group_rule TEXT NOT NULL,
    -- The contributor the partner counts as in rankings; NULL when it counts as itself.
    rollup_code TEXT,
    synthetic INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX partner_iati_ref ON partner (iati_ref);

CREATE TABLE agreement (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    title_en TEXT NOT NULL,
    title_fr TEXT NOT NULL,
    title_es TEXT NOT NULL,
    modality TEXT NOT NULL,
    status TEXT NOT NULL,
    signature_date TEXT,
    start_date TEXT,
    end_date TEXT,
    currency TEXT NOT NULL,
    amount TEXT NOT NULL,
    confidential INTEGER NOT NULL DEFAULT 0,
    inquiry_key TEXT,
    synthetic INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE agreement_partner (
    id INTEGER PRIMARY KEY,
    agreement_id INTEGER NOT NULL REFERENCES agreement (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    partner_id INTEGER NOT NULL REFERENCES partner (id),
    amount TEXT NOT NULL
) STRICT;
CREATE INDEX agreement_partner_agreement ON agreement_partner (agreement_id);

CREATE TABLE instalment (
    id INTEGER PRIMARY KEY,
    agreement_id INTEGER NOT NULL REFERENCES agreement (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    due_date TEXT NOT NULL,
    amount TEXT NOT NULL,
    received_date TEXT,
    received_amount TEXT
) STRICT;
CREATE INDEX instalment_agreement ON instalment (agreement_id);

-- target_kind is project (an IATI identifier), country (alpha-2) or policy_area (a code).
CREATE TABLE earmark (
    id INTEGER PRIMARY KEY,
    agreement_id INTEGER NOT NULL REFERENCES agreement (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    target_kind TEXT NOT NULL CHECK (
        target_kind = 'project' OR target_kind = 'country' OR target_kind = 'policy_area'
    ),
    target TEXT NOT NULL,
    amount TEXT NOT NULL
) STRICT;
CREATE INDEX earmark_agreement ON earmark (agreement_id);

CREATE TABLE partnership (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    name_en TEXT NOT NULL,
    name_fr TEXT NOT NULL,
    name_es TEXT NOT NULL,
    level TEXT NOT NULL,
    synthetic INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE partnership_policy_area (
    partnership_id INTEGER NOT NULL REFERENCES partnership (id) ON DELETE CASCADE,
    policy_area TEXT NOT NULL,
    PRIMARY KEY (partnership_id, policy_area)
) STRICT, WITHOUT ROWID;

CREATE TABLE partnership_member (
    partnership_id INTEGER NOT NULL REFERENCES partnership (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    partner_id INTEGER NOT NULL REFERENCES partner (id),
    role TEXT NOT NULL,
    PRIMARY KEY (partnership_id, position)
) STRICT, WITHOUT ROWID;

CREATE TABLE inquiry (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    organisation TEXT NOT NULL,
    partner_group TEXT,
    country TEXT,
    message TEXT NOT NULL,
    consent INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    stage TEXT NOT NULL,
    first_response_at TEXT,
    partner_id INTEGER REFERENCES partner (id),
    agreement_id INTEGER REFERENCES agreement (id) ON DELETE SET NULL,
    synthetic INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE inquiry_policy_area (
    inquiry_id INTEGER NOT NULL REFERENCES inquiry (id) ON DELETE CASCADE,
    policy_area TEXT NOT NULL,
    PRIMARY KEY (inquiry_id, policy_area)
) STRICT, WITHOUT ROWID;

CREATE TABLE inquiry_event (
    inquiry_id INTEGER NOT NULL REFERENCES inquiry (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    at TEXT NOT NULL,
    by_user TEXT NOT NULL,
    from_stage TEXT NOT NULL,
    to_stage TEXT NOT NULL,
    note TEXT NOT NULL,
    PRIMARY KEY (inquiry_id, position)
) STRICT, WITHOUT ROWID;

-- What the organisation adds to an activity. Keyed by the IATI identifier, not the activity's
-- row, because a re-import replaces the row and must not lose what staff set by hand.
CREATE TABLE activity_extra (
    activity_identifier TEXT PRIMARY KEY,
    south_south INTEGER NOT NULL DEFAULT 0,
    triangular INTEGER NOT NULL DEFAULT 0,
    joint_un INTEGER NOT NULL DEFAULT 0,
    mptf INTEGER NOT NULL DEFAULT 0,
    synthetic INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE activity_policy_area (
    activity_identifier TEXT NOT NULL REFERENCES activity_extra (activity_identifier) ON DELETE CASCADE,
    policy_area TEXT NOT NULL,
    PRIMARY KEY (activity_identifier, policy_area)
) STRICT, WITHOUT ROWID;

-- Rates imported with `coopfolio rates import`, used before the bundled ones: period is
-- 'YYYY-MM' (a month's average) or 'YYYY' (a year's).
CREATE TABLE exchange_rate (
    currency TEXT NOT NULL,
    period TEXT NOT NULL,
    units_per_usd TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (currency, period)
) STRICT, WITHOUT ROWID;

CREATE TABLE setting (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- Ledger entries written from agreements name their agreement and partner, so that figures can
-- group by partner and withhold what is confidential; removing an agreement removes its entries.
ALTER TABLE ledger_entry ADD COLUMN agreement_id INTEGER REFERENCES agreement (id) ON DELETE CASCADE;
ALTER TABLE ledger_entry ADD COLUMN partner_id INTEGER REFERENCES partner (id);
CREATE INDEX ledger_entry_agreement ON ledger_entry (agreement_id);
CREATE INDEX ledger_entry_kind_date ON ledger_entry (kind, date);
