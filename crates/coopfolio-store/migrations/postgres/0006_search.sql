-- Full-text search over every title and description, in every language, and an index for the
-- explorer's partner and modality filters.
--
-- PostgreSQL keeps the search index itself: a GIN index over each narrative's words with the
-- 'simple' configuration (no stemming, so no language is favoured) after folding the accents of
-- Latin letters with translate(), which, unlike unaccent(), is immutable and may be indexed.
-- The store's query repeats this exact expression (portal.rs, SEARCH_VECTOR), so that the
-- planner uses the index. SQLite's FTS5 tokenizer folds the same accents.

CREATE INDEX activity_narrative_search ON activity_narrative USING GIN (
    to_tsvector('simple', translate(text,
        'ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖòóôõöÙÚÛÜùúûüÝýÿ',
        'AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOoooooUUUUuuuuYyy'))
);

CREATE INDEX earmark_target ON earmark (target_kind, target);
