-- The budget entries' date index goes. It served the portfolio budget when that figure read
-- every budget entry of its period; the figure now reads budget_rollup (migration 0013), and
-- only the reference computation it is tested against still reads entries by date, at a size
-- where a scan is fine. Every imported budget paid for an entry in it, inserted at the place of
-- its date rather than at the end, about a fourteenth of SQLite's import writer's instructions.
-- The budget entries without a rate keep their own small index (migration 0013).
DROP INDEX ledger_entry_budget_date;
