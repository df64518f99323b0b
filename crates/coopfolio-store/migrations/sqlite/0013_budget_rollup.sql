-- The rollup of the portfolio budget, kept up to date by every write in the same transaction as
-- the write, so that the figure reads a few rows whatever the size of the portfolio.
--
-- budget_rollup sums the budget entries of the ledger that the figure counts: one row per
-- calendar year of the budget period's start, reporting organisation ('' for none), conversion
-- status, rate source ('' when not converted) and scale of the US dollar amounts summed, as in
-- contribution_rollup. Sums are TEXT holding the exact decimal, added in Rust. An activity's
-- budgets count when it has no parent programme stored (a related-activity of type 1 whose
-- identifier is stored), and a revised budget replaces the originals of its activity and period
-- start before anything is summed.
CREATE TABLE budget_rollup (
    year INTEGER NOT NULL,
    organisation TEXT NOT NULL,
    conversion_status TEXT NOT NULL,
    rate_source TEXT NOT NULL,
    usd_scale INTEGER NOT NULL,
    usd TEXT NOT NULL,
    entries INTEGER NOT NULL,
    PRIMARY KEY (year, organisation, conversion_status, rate_source, usd_scale)
) STRICT, WITHOUT ROWID;

-- What the activity's budgets add to budget_rollup when it counts (JSON written by the store),
-- and whether it counts now: 1 when no parent programme of it is stored. A parent stored or
-- replaced later flips its children, so the flag is what the rollup holds, not a guess.
ALTER TABLE activity ADD COLUMN budget_facts TEXT;
ALTER TABLE activity ADD COLUMN budget_counted INTEGER NOT NULL DEFAULT 0;

-- The children of a programme, found by its identifier when it is stored or replaced.
CREATE INDEX related_activity_parent ON related_activity (iati_identifier) WHERE type = '1';

-- The budget entries without a rate, which the figure lists one by one; few in a converted
-- ledger, so this index is small whatever the size of the portfolio.
CREATE INDEX ledger_entry_budget_unconverted ON ledger_entry (date)
    WHERE kind = 'budget' AND conversion_status <> 'converted';
