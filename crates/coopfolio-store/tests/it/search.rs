//! Full-text search follows the imports: a word of a description is found once its file
//! commits, a re-imported activity is found by its new words and no longer by its old ones, and
//! a file that fails leaves no trace in the index. On a SQLite file (the writer thread), on an
//! in-memory SQLite database (the batched path) and on PostgreSQL when it is given.

use coopfolio_iati::model::{Activity, Description};
use coopfolio_store::portal::ProjectQuery;
use coopfolio_store::Store;

use crate::support::{activity, fatal, narrative, sqlite_store, TestDatabase};

#[tokio::test]
async fn search_follows_imports_on_a_sqlite_file() {
    let (store, _url, _folder) = sqlite_store().await;
    search_follows_imports(&store).await;
    store.close().await;
}

#[tokio::test]
async fn search_follows_imports_in_memory() {
    let store = Store::connect("sqlite::memory:").await.expect("connecting");
    search_follows_imports(&store).await;
    store.close().await;
}

#[tokio::test]
async fn search_follows_imports_on_postgres() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let store = Store::connect(&database.url).await.expect("connecting");
    search_follows_imports(&store).await;
    store.close().await;
    database.drop_database().await;
}

/// The SQLite writer thread writes each activity's search document as it writes the activity;
/// the batched path builds the documents at commit from the stored narratives. Both must find
/// the same activities for every word: across batches, with a repeat that replaces an activity
/// of an earlier batch, with activities that have no narrative or an empty one.
#[tokio::test]
async fn the_writer_thread_indexes_as_the_batched_path_does() {
    let words = [
        "emploi",
        "travail",
        "décent",
        "jeunes",
        "protección",
        "social",
        "niños",
        "trabajo",
        "skills",
        "migration",
        "just",
        "transition",
        "sécurité",
        "santé",
        "género",
    ];
    let mut activities = Vec::new();
    for number in 0..150_usize {
        let mut activity = activity(&format!("XM-DAC-41302-S{number}"), vec![], vec![]);
        activity.titles = (0..number % 3)
            .map(|index| {
                narrative(
                    ["en", "fr", "es"][index],
                    words[(number + index) % words.len()],
                )
            })
            .collect();
        if number % 4 != 0 {
            activity.descriptions = vec![Description {
                kind: Some("1".to_owned()),
                narratives: vec![
                    narrative(
                        "fr",
                        &format!(
                            "{} {}",
                            words[number % 7],
                            words[(number * 5) % words.len()]
                        ),
                    ),
                    narrative(
                        "es",
                        if number % 5 == 0 {
                            ""
                        } else {
                            words[(number * 3) % words.len()]
                        },
                    ),
                ],
            }];
        }
        activities.push(activity);
    }
    // The first activity again, after its batch went to the database, with other words.
    let mut repeat = activity("XM-DAC-41302-S0", vec![], vec![]);
    repeat.titles = vec![narrative("en", "Renewed decent work programme")];
    activities.push(repeat);

    let (file_store, _url, _folder) = sqlite_store().await;
    let memory_store = Store::connect("sqlite::memory:").await.expect("connecting");
    for store in [&file_store, &memory_store] {
        import(store, "words.xml", activities.clone()).await;
    }
    for word in words.iter().chain(&["renewed", "programme", "decent"]) {
        let on_file = found(&file_store, word).await;
        assert_eq!(
            on_file,
            found(&memory_store, word).await,
            "results for {word}"
        );
        assert!(!on_file.is_empty(), "{word} is found");
    }
    assert_eq!(found(&file_store, "renewed").await, ["XM-DAC-41302-S0"]);
    file_store.close().await;
    memory_store.close().await;
}

fn described(identifier: &str, french: &str) -> Activity {
    let mut activity = activity(identifier, vec![], vec![]);
    activity.descriptions = vec![Description {
        kind: Some("1".to_owned()),
        narratives: vec![
            narrative("en", "Jobs and social protection."),
            narrative("fr", french),
        ],
    }];
    activity
}

async fn found(store: &Store, text: &str) -> Vec<String> {
    let list = store
        .projects(&ProjectQuery {
            text: Some(text.to_owned()),
            page: 1,
            page_size: 50,
            ..ProjectQuery::default()
        })
        .await
        .expect("searching");
    list.projects.into_iter().map(|p| p.identifier).collect()
}

async fn import(store: &Store, file: &str, activities: Vec<Activity>) {
    let mut session = store.begin_import(file, 10).await.expect("begin");
    for activity in activities {
        session.add_activity(activity).await.expect("add activity");
    }
    session.commit(0).await.expect("commit");
}

async fn search_follows_imports(store: &Store) {
    import(
        store,
        "first.xml",
        vec![
            described("XM-DAC-41302-A", "Formation des employeurs ruraux."),
            described("XM-DAC-41302-B", "Sécurité et santé au travail."),
        ],
    )
    .await;
    // A description word, in French, as a prefix, accents and case folded.
    assert_eq!(found(store, "EMPLOYEUR").await, ["XM-DAC-41302-A"]);
    assert_eq!(found(store, "securite sante").await, ["XM-DAC-41302-B"]);
    // Every word must be found, in any narrative of the activity.
    assert_eq!(found(store, "social employeurs").await, ["XM-DAC-41302-A"]);
    assert!(found(store, "employeurs sante").await.is_empty());
    // Part of an identifier still finds it.
    assert_eq!(found(store, "41302-b").await, ["XM-DAC-41302-B"]);

    import(
        store,
        "second.xml",
        vec![described("XM-DAC-41302-A", "Migrations de main-d'œuvre.")],
    )
    .await;
    assert!(found(store, "employeurs").await.is_empty());
    assert_eq!(found(store, "migrations").await, ["XM-DAC-41302-A"]);

    let mut session = store.begin_import("broken.xml", 10).await.expect("begin");
    session
        .add_activity(described("XM-DAC-41302-C", "Apprentissage numérique."))
        .await
        .expect("add activity");
    session.fail(&fatal("broken.xml")).await.expect("fail");
    assert!(found(store, "apprentissage").await.is_empty());
    assert_eq!(found(store, "migrations").await, ["XM-DAC-41302-A"]);
}
