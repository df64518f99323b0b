-- Rollups of the headline figures, kept up to date by every write in the same transaction as
-- the write, so that a figure reads a few hundred rows whatever the size of the portfolio.
--
-- contribution_rollup sums the agreement ledger: one row per kind, calendar year of the entry's
-- date, modality, partner, conversion status, rate source and the scale (decimal places) of the
-- US dollar amounts summed. Sums are NUMERIC, added in SQL; keeping each
-- scale apart lets a figure give the very decimal string the entries themselves would add up to.
-- Only agreement entries count: contributions come from agreements, never from activities.
CREATE TABLE contribution_rollup (
    kind TEXT NOT NULL,
    year INTEGER NOT NULL,
    modality TEXT NOT NULL,
    partner_id BIGINT NOT NULL,
    conversion_status TEXT NOT NULL,
    -- '' when the entry was not converted.
    rate_source TEXT NOT NULL,
    usd_scale INTEGER NOT NULL,
    usd NUMERIC NOT NULL,
    entries BIGINT NOT NULL,
    PRIMARY KEY (kind, year, modality, partner_id, conversion_status, rate_source, usd_scale)
);

-- portfolio_rollup counts activities by the years in which they start and end (end_year 9999
-- for no end), their reporting organisation ('' for none) and one dimension: 'activity' (code
-- ''), 'country' (a recipient country as the figures read it), 'region' (an ILO region of those
-- countries) or 'policy_area' (set by hand, else mapped from the sectors). An activity is active
-- in years Y1..Y2 when start_year <= Y2 and end_year >= Y1, so a period's counts are sums.
CREATE TABLE portfolio_rollup (
    dimension TEXT NOT NULL,
    code TEXT NOT NULL,
    start_year INTEGER NOT NULL,
    end_year INTEGER NOT NULL,
    organisation TEXT NOT NULL,
    activities BIGINT NOT NULL,
    PRIMARY KEY (dimension, code, start_year, end_year, organisation)
);

-- What each activity adds to portfolio_rollup (JSON written by the store), so that replacing
-- the activity or changing its policy areas subtracts exactly what it added.
ALTER TABLE activity ADD COLUMN rollup_facts TEXT;

-- The agreement entries of a kind and period, which the contribution figures list when some had
-- no rate and count for confidential agreements, without the imported entries of the same kind.
CREATE INDEX ledger_entry_agreement_kind_date ON ledger_entry (kind, date)
    WHERE agreement_id IS NOT NULL;
