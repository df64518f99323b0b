-- Full-text search over every title and description, in every language, and an index for the
-- explorer's partner and modality filters.
--
-- activity_search holds one document per activity (its rowid is the activity's id): all its
-- narratives joined. The tokenizer folds case and accents, so "demonstration" finds
-- "démonstration". An import fills it for the activities of each file when the file commits, in
-- the file's transaction, with one INSERT ... SELECT; replacing or removing an activity removes
-- its document through the trigger below, which only fires on a replacement and costs a plain
-- import nothing.

-- The table keeps no copy of the text (content = '') and no word positions (detail = none):
-- the search asks only which activities hold words starting so, and the import writes about a
-- ninth of the pages a full table would (0.8 MB instead of 7.2 MB for the 43 real files). contentless_delete lets a replaced activity's document go.
CREATE VIRTUAL TABLE activity_search USING fts5 (
    text,
    tokenize = 'unicode61 remove_diacritics 2',
    content = '',
    contentless_delete = 1,
    detail = none
);

INSERT INTO activity_search (rowid, text)
SELECT activity_id, group_concat(text, ' ') FROM activity_narrative GROUP BY activity_id;

CREATE TRIGGER activity_search_forget AFTER DELETE ON activity BEGIN
    DELETE FROM activity_search WHERE rowid = old.id;
END;

CREATE INDEX earmark_target ON earmark (target_kind, target);
