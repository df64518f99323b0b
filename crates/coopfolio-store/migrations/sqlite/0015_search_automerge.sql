-- Each import flushes the search index once per file, as a new segment, and FTS5 merges the
-- segments of a level once it holds `automerge` of them, four by default. Importing a folder of
-- 43 files of 100 activities each, the import's writer spent more instructions merging those
-- small segments (246 M) than indexing the documents; merging sixteen at a time writes each
-- entry through fewer levels (140 M), and a search reads at most fifteen segments a level.
-- PostgreSQL's search index (a GIN index) has no such setting.
INSERT INTO activity_search (activity_search, rank) VALUES ('automerge', 16);
