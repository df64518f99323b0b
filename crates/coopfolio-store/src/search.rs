//! Full-text search over the titles and descriptions of programmes and projects, in every
//! language: how the words a visitor types become a query for each backend, and how an import
//! keeps SQLite's search index up to date.
//!
//! SQLite searches an FTS5 table, `activity_search`, with one document per activity, filled by
//! each import when its file commits ([`INDEX_IMPORT_RUN_SQL`]). PostgreSQL searches a GIN index
//! over `activity_narrative` that it maintains itself. Both fold case and the accents of Latin
//! letters, use no stemming (so that no language is favoured over another), and treat every word
//! typed as a prefix that must be found: "travail emploi" finds the records holding a word that
//! starts with "travail" and a word that starts with "emploi", in any of their narratives.

use crate::Backend;

/// Adds the activities of one import run to SQLite's search index: one document per activity,
/// its narratives joined. Run in the file's transaction, before it commits; `$1` is the run.
pub(crate) const INDEX_IMPORT_RUN_SQL: &str = "INSERT INTO activity_search (rowid, text) \
    SELECT n.activity_id, group_concat(n.text, ' ') FROM activity_narrative n \
    WHERE n.activity_id IN (SELECT a.id FROM activity a WHERE a.import_run_id = $1) \
    GROUP BY n.activity_id";

/// The accented Latin letters PostgreSQL folds, and what each becomes; the same in the index
/// (migration 0006) and in the query, so that the planner uses the index.
const ACCENTED: &str = "ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖòóôõöÙÚÛÜùúûüÝýÿ";
const FOLDED: &str = "AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOoooooUUUUuuuuYyy";

/// The words of a search, as the index splits text: runs of letters and digits, lower case.
/// Anything else separates words, so quotes and operators typed by a visitor mean nothing.
pub fn search_words(text: &str) -> Vec<String> {
    text.split(|character: char| !character.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The condition "the activity `a` holds every word", with `placeholder` bound to the text
/// [`search_argument`] makes.
pub(crate) fn matching_condition(backend: Backend, placeholder: &str) -> String {
    match backend {
        Backend::Sqlite => format!(
            "a.id IN (SELECT rowid FROM activity_search WHERE activity_search MATCH {placeholder})"
        ),
        // Each word may be in a different narrative of the activity (a title in English, a
        // description in French), so the words are matched one by one: no word of the query
        // may lack a narrative that holds it.
        Backend::Postgres => format!(
            "NOT EXISTS (SELECT 1 FROM unnest(string_to_array({placeholder}, ' & ')) AS w (query) \
             WHERE NOT EXISTS (SELECT 1 FROM activity_narrative n WHERE n.activity_id = a.id \
             AND to_tsvector('simple', translate(n.text, '{ACCENTED}', '{FOLDED}')) \
             @@ to_tsquery('simple', translate(w.query, '{ACCENTED}', '{FOLDED}'))))"
        ),
    }
}

/// The query text for [`matching_condition`]: every word required, each as a prefix. The words
/// hold only letters and digits, so neither FTS5's nor PostgreSQL's query syntax can be
/// injected through them; FTS5's are quoted all the same, so that a word such as "NOT" is a
/// word.
pub(crate) fn search_argument(backend: Backend, words: &[String]) -> Option<String> {
    if words.is_empty() {
        return None;
    }
    Some(match backend {
        Backend::Sqlite => words
            .iter()
            .map(|word| format!("\"{word}\"*"))
            .collect::<Vec<_>>()
            .join(" "),
        Backend::Postgres => words
            .iter()
            .map(|word| format!("{word}:*"))
            .collect::<Vec<_>>()
            .join(" & "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_letters_and_digits_in_lower_case() {
        assert_eq!(
            search_words("  Travail DÉCENT, d'employeurs \"NOT\" 2022-23 *"),
            ["travail", "décent", "d", "employeurs", "not", "2022", "23"]
        );
        assert!(search_words(" -- ' * ").is_empty());
    }

    #[test]
    fn each_backend_gets_every_word_as_a_prefix() {
        let words = search_words("emploi jeunes");
        assert_eq!(
            search_argument(Backend::Sqlite, &words).unwrap(),
            "\"emploi\"* \"jeunes\"*"
        );
        assert_eq!(
            search_argument(Backend::Postgres, &words).unwrap(),
            "emploi:* & jeunes:*"
        );
        assert_eq!(search_argument(Backend::Sqlite, &[]), None);
    }

    #[test]
    fn postgres_query_repeats_the_indexed_expression() {
        let migration = include_str!("../migrations/postgres/0006_search.sql");
        let folded = format!("translate(text,\n        '{ACCENTED}',\n        '{FOLDED}')");
        assert!(migration.contains(&folded), "the index folds other letters");
        assert_eq!(ACCENTED.chars().count(), FOLDED.chars().count());
    }
}
