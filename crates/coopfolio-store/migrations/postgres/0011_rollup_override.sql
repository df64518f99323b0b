-- A partner's roll-up set by hand. NULL: the roll-up rules in data/reference decide, as before;
-- '' : the partner counts as itself whatever the rules say; any other text: the contributor
-- code it counts as. partner.rollup_code stays the roll-up in force (what the rankings read),
-- so that a ranking needs no second lookup; every write of a partner keeps the two in step.
ALTER TABLE partner ADD COLUMN rollup_override TEXT;
