-- Fewer index entries per imported ledger entry. An import writes one ledger entry per
-- transaction and budget; each paid for an entry in every index of the table, and two of them
-- served only a part of the rows:
--
-- ledger_entry_agreement indexed the NULL agreement of every imported entry; only agreement
-- entries are ever looked up by agreement (figures, partner pages, removing an agreement), and
-- `agreement_id = ?` implies `agreement_id IS NOT NULL`, so the partial index serves them all.
--
-- ledger_entry_kind_date indexed every entry by kind and date. The contribution figures read
-- agreement entries through ledger_entry_agreement_kind_date (migration 0005), and the portfolio
-- budget reads budget entries by date through ledger_entry_budget_date below (a budget entry's
-- date is its budget's period start); nothing else reads imported entries by kind and date.
DROP INDEX ledger_entry_agreement;
CREATE INDEX ledger_entry_agreement ON ledger_entry (agreement_id)
    WHERE agreement_id IS NOT NULL;
DROP INDEX ledger_entry_kind_date;
CREATE INDEX ledger_entry_budget_date ON ledger_entry (date) WHERE kind = 'budget';
