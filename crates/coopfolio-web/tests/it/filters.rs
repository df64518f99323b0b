//! The explorer's filters, facets and full-text search. Filters are checked against an
//! independent computation over the demo generator's own records (no SQL: the generator made
//! the data the database holds); each facet count against the count its filter gives; the
//! search against the words of the generated narratives; and PostgreSQL against SQLite.

use std::collections::{BTreeMap, BTreeSet};

use coopfolio_core::codelists::Codelists;
use coopfolio_core::country::IloRegion;
use coopfolio_core::modality::Modality;
use coopfolio_core::partner_group::PartnerGroup;
use coopfolio_core::partnership::{EarmarkTarget, ProjectMarkers};
use coopfolio_core::policy_area::PolicyArea;
use coopfolio_demo::{generate, DemoOptions, Workspace};
use coopfolio_store::portal::{Marker, ProjectQuery, ProjectSort};
use coopfolio_store::Store;

use crate::{demo_store, get};

/// Every identifier a query lists, over all its pages of 50, in order.
async fn listed(store: &Store, query: &ProjectQuery) -> Vec<String> {
    let mut identifiers = Vec::new();
    let mut page = 1;
    loop {
        let list = store
            .projects(&ProjectQuery {
                page,
                page_size: 50,
                ..query.clone()
            })
            .await
            .expect("listing");
        identifiers.extend(list.projects.into_iter().map(|p| p.identifier));
        if identifiers.len() as u64 >= list.total {
            assert_eq!(identifiers.len() as u64, list.total, "pages overlap");
            return identifiers;
        }
        page += 1;
    }
}

fn query() -> ProjectQuery {
    ProjectQuery {
        page: 1,
        page_size: 50,
        ..ProjectQuery::default()
    }
}

/// What the generator says about each project, computed from its records alone.
struct Generated {
    workspace: Workspace,
    /// Partner keys behind each project: its earmarking agreements' partners, and the partners
    /// it names as participating organisations.
    partners: BTreeMap<String, BTreeSet<String>>,
    modalities: BTreeMap<String, BTreeSet<Modality>>,
    markers: BTreeMap<String, ProjectMarkers>,
}

fn generated() -> Generated {
    let workspace = generate(&DemoOptions::default());
    let by_ref: BTreeMap<&str, &str> = workspace
        .partners
        .iter()
        .filter_map(|p| Some((p.iati_ref.as_deref()?, p.key.as_str())))
        .collect();
    let mut partners: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut modalities: BTreeMap<String, BTreeSet<Modality>> = BTreeMap::new();
    for agreement in &workspace.agreements {
        for earmark in &agreement.earmarking {
            if let EarmarkTarget::Project(identifier) = &earmark.target {
                for share in &agreement.partners {
                    partners
                        .entry(identifier.clone())
                        .or_default()
                        .insert(share.partner_key.clone());
                }
                modalities
                    .entry(identifier.clone())
                    .or_default()
                    .insert(agreement.modality);
            }
        }
    }
    for activity in &workspace.activities {
        for org in &activity.participating_orgs {
            if let Some(key) = org.reference.as_deref().and_then(|r| by_ref.get(r)) {
                partners
                    .entry(activity.identifier.clone())
                    .or_default()
                    .insert((*key).to_owned());
            }
        }
    }
    let markers = workspace
        .project_extras
        .iter()
        .map(|extras| (extras.activity_identifier.clone(), extras.markers))
        .collect();
    Generated {
        workspace,
        partners,
        modalities,
        markers,
    }
}

impl Generated {
    fn expect(&self, keep: impl Fn(&str, Option<&str>) -> bool) -> BTreeSet<String> {
        self.workspace
            .activities
            .iter()
            .filter(|a| keep(&a.identifier, a.status.as_deref()))
            .map(|a| a.identifier.clone())
            .collect()
    }

    fn has_partner(&self, identifier: &str, key: &str) -> bool {
        self.partners
            .get(identifier)
            .is_some_and(|keys| keys.contains(key))
    }

    fn has_modality(&self, identifier: &str, modality: Modality) -> bool {
        self.modalities
            .get(identifier)
            .is_some_and(|set| set.contains(&modality))
    }

    fn marker(&self, identifier: &str, pick: fn(&ProjectMarkers) -> bool) -> bool {
        self.markers.get(identifier).is_some_and(pick)
    }
}

#[tokio::test]
async fn filters_combine_as_the_generator_records_say() {
    let store = demo_store().await;
    let generated = generated();
    // The partner behind the most projects, so that its combinations are not empty.
    let mut projects_per_partner: BTreeMap<&str, usize> = BTreeMap::new();
    for keys in generated.partners.values() {
        for key in keys {
            *projects_per_partner.entry(key).or_default() += 1;
        }
    }
    let (partner, _) = projects_per_partner
        .iter()
        .max_by_key(|(key, count)| (**count, std::cmp::Reverse(**key)))
        .expect("partners behind projects");
    let partner = (*partner).to_owned();

    let cases: Vec<(&str, ProjectQuery, BTreeSet<String>)> = vec![
        (
            "partner",
            ProjectQuery {
                partner: Some(partner.clone()),
                ..query()
            },
            generated.expect(|id, _| generated.has_partner(id, &partner)),
        ),
        (
            "partner and status",
            ProjectQuery {
                partner: Some(partner.clone()),
                status: Some("2".to_owned()),
                ..query()
            },
            generated
                .expect(|id, status| generated.has_partner(id, &partner) && status == Some("2")),
        ),
        (
            "modality and South-South",
            ProjectQuery {
                modality: Some(Modality::Earmarked),
                markers: vec![Marker::SouthSouth],
                ..query()
            },
            generated.expect(|id, _| {
                generated.has_modality(id, Modality::Earmarked)
                    && generated.marker(id, |m| m.south_south)
            }),
        ),
        (
            "domestic trust funds",
            ProjectQuery {
                modality: Some(Modality::Domestic),
                ..query()
            },
            generated.expect(|id, _| generated.has_modality(id, Modality::Domestic)),
        ),
        (
            "joint UN and MPTF",
            ProjectQuery {
                markers: vec![Marker::JointUn, Marker::Mptf],
                ..query()
            },
            generated.expect(|id, _| {
                generated.marker(id, |m| m.joint_un) && generated.marker(id, |m| m.mptf)
            }),
        ),
        (
            "triangular, partner and status",
            ProjectQuery {
                markers: vec![Marker::Triangular],
                partner: Some(partner.clone()),
                status: Some("2".to_owned()),
                ..query()
            },
            generated.expect(|id, status| {
                generated.marker(id, |m| m.triangular)
                    && generated.has_partner(id, &partner)
                    && status == Some("2")
            }),
        ),
    ];
    let mut non_empty = 0;
    for (name, query, expected) in cases {
        let listed: BTreeSet<String> = listed(&store, &query).await.into_iter().collect();
        assert_eq!(listed, expected, "{name}");
        non_empty += usize::from(!expected.is_empty());
    }
    assert!(non_empty >= 4, "the cases should mostly select something");
    store.close().await;
}

#[tokio::test]
async fn each_facet_count_is_the_count_of_its_filter() {
    let store = demo_store().await;
    let bases = [
        query(),
        ProjectQuery {
            region: Some(IloRegion::Africa),
            status: Some("2".to_owned()),
            ..query()
        },
        ProjectQuery {
            markers: vec![Marker::SouthSouth],
            modality: Some(Modality::Earmarked),
            ..query()
        },
        ProjectQuery {
            text: Some("emploi".to_owned()),
            year: Some(2023),
            ..query()
        },
    ];
    let total = |store: &Store, query: ProjectQuery| {
        let store = store.clone();
        async move { store.projects(&query).await.expect("listing").total }
    };
    let mut checked = 0;
    for base in bases {
        let facets = store.project_facets(&base).await.expect("facets");
        assert!(!facets.statuses.is_empty() && !facets.partners.is_empty());
        for count in &facets.countries {
            let with = ProjectQuery {
                country: Some(count.code.clone()),
                ..base.clone()
            };
            assert_eq!(
                total(&store, with).await,
                count.count,
                "country {}",
                count.code
            );
        }
        for count in &facets.regions {
            let with = ProjectQuery {
                region: Some(count.code.parse().unwrap()),
                ..base.clone()
            };
            assert_eq!(
                total(&store, with).await,
                count.count,
                "region {}",
                count.code
            );
        }
        for count in &facets.policy_areas {
            let with = ProjectQuery {
                policy_area: Some(count.code.parse::<PolicyArea>().unwrap()),
                ..base.clone()
            };
            assert_eq!(
                total(&store, with).await,
                count.count,
                "area {}",
                count.code
            );
        }
        for count in &facets.statuses {
            let with = ProjectQuery {
                status: Some(count.code.clone()),
                ..base.clone()
            };
            assert_eq!(
                total(&store, with).await,
                count.count,
                "status {}",
                count.code
            );
        }
        for count in &facets.years {
            let with = ProjectQuery {
                year: Some(count.code.parse().unwrap()),
                ..base.clone()
            };
            assert_eq!(
                total(&store, with).await,
                count.count,
                "year {}",
                count.code
            );
        }
        for partner in &facets.partners {
            let with = ProjectQuery {
                partner: Some(partner.key.clone()),
                ..base.clone()
            };
            assert_eq!(total(&store, with).await, partner.count, "{}", partner.key);
        }
        for count in &facets.partner_groups {
            let with = ProjectQuery {
                partner_group: Some(count.code.parse::<PartnerGroup>().unwrap()),
                ..base.clone()
            };
            assert_eq!(
                total(&store, with).await,
                count.count,
                "group {}",
                count.code
            );
        }
        for count in &facets.modalities {
            let with = ProjectQuery {
                modality: Some(count.code.parse::<Modality>().unwrap()),
                ..base.clone()
            };
            assert_eq!(
                total(&store, with).await,
                count.count,
                "modality {}",
                count.code
            );
        }
        for (marker, count) in Marker::ALL.iter().zip(&facets.markers) {
            assert_eq!(count.code, marker.code());
            let mut with = base.clone();
            if !with.markers.contains(marker) {
                with.markers.push(*marker);
            }
            assert_eq!(total(&store, with).await, count.count, "{}", count.code);
        }
        checked += 1;
    }
    assert_eq!(checked, 4);
    store.close().await;
}

/// The words of a text as the search splits it.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[tokio::test]
async fn search_finds_a_french_word_that_only_descriptions_hold() {
    let store = demo_store().await;
    let workspace = generate(&DemoOptions::default());
    let in_titles: BTreeSet<String> = workspace
        .activities
        .iter()
        .flat_map(|a| a.titles.iter().flat_map(|n| words(&n.text)))
        .collect();
    // The longest French description word with an accent that no title holds.
    let word = workspace
        .activities
        .iter()
        .flat_map(|a| a.descriptions.iter().flat_map(|d| d.narratives.iter()))
        .filter(|n| n.lang.as_deref() == Some("fr"))
        .flat_map(|n| words(&n.text))
        .filter(|w| !in_titles.iter().any(|t| t.starts_with(w.as_str())))
        .filter(|w| !w.is_ascii())
        .max_by_key(|w| (w.chars().count(), w.clone()))
        .expect("a French word only in descriptions");
    let expected: BTreeSet<String> = workspace
        .activities
        .iter()
        .filter(|a| {
            let narratives = a
                .titles
                .iter()
                .chain(a.descriptions.iter().flat_map(|d| d.narratives.iter()));
            narratives
                .flat_map(|n| words(&n.text))
                .any(|w| w.starts_with(word.as_str()))
        })
        .map(|a| a.identifier.clone())
        .collect();
    assert!(!expected.is_empty());
    let found: BTreeSet<String> = listed(
        &store,
        &ProjectQuery {
            text: Some(word.to_uppercase()),
            ..query()
        },
    )
    .await
    .into_iter()
    .collect();
    assert_eq!(found, expected, "searching {word}");

    // Accents fold: the word typed without them finds the same.
    let plain: String = word
        .chars()
        .map(|c| match c {
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'à' | 'â' => 'a',
            'î' | 'ï' => 'i',
            'ô' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            other => other,
        })
        .collect();
    assert_ne!(plain, word);
    let unaccented: BTreeSet<String> = listed(
        &store,
        &ProjectQuery {
            text: Some(plain.clone()),
            ..query()
        },
    )
    .await
    .into_iter()
    .collect();
    assert_eq!(unaccented, expected, "searching {plain}");

    // Through the page, with a filter beside it.
    let page = get(&store, &format!("/projects?q={plain}&region=africa")).await;
    let africa: BTreeSet<String> = listed(
        &store,
        &ProjectQuery {
            region: Some(IloRegion::Africa),
            ..query()
        },
    )
    .await
    .into_iter()
    .collect();
    let both = expected.intersection(&africa).count();
    assert!(
        page.body
            .contains(&format!("<strong id=\"result-count\">{both}</strong>")),
        "{plain} in Africa should find {both}"
    );
    // A word nobody wrote finds nothing.
    let none = store
        .projects(&ProjectQuery {
            text: Some("zzyzxquux".to_owned()),
            ..query()
        })
        .await
        .unwrap();
    assert_eq!(none.total, 0);
    store.close().await;
}

#[tokio::test]
async fn the_page_shows_facet_counts_and_every_filter() {
    let store = demo_store().await;
    let page = get(&store, "/projects?south_south=1&modality=earmarked").await;
    assert_eq!(page.status, axum::http::StatusCode::OK, "{}", page.body);
    let facets = store
        .project_facets(&ProjectQuery {
            markers: vec![Marker::SouthSouth],
            modality: Some(Modality::Earmarked),
            ..query()
        })
        .await
        .unwrap();
    let africa = facets
        .regions
        .iter()
        .find(|c| c.code == "africa")
        .map_or(0, |c| c.count);
    assert!(
        page.body.contains(&format!(">Africa ({africa})</option>")),
        "Africa ({africa})"
    );
    for name in [
        "partner",
        "group",
        "modality",
        "south_south",
        "mptf",
        "year",
    ] {
        assert!(page.body.contains(&format!("name=\"{name}\"")), "{name}");
    }
    assert!(page
        .body
        .contains("name=\"south_south\" value=\"1\" checked"));
    let bad = get(&store, "/projects?south_south=maybe").await;
    assert_eq!(bad.status, axum::http::StatusCode::BAD_REQUEST);
    let bad = get(&store, "/projects?group=aliens").await;
    assert_eq!(bad.status, axum::http::StatusCode::BAD_REQUEST);
    store.close().await;
}

/// A PostgreSQL database for one test, dropped when it ends.
pub(crate) struct PostgresDatabase {
    server: String,
    name: String,
    pub(crate) url: String,
}

impl PostgresDatabase {
    pub(crate) fn create() -> Option<PostgresDatabase> {
        let Ok(server) = std::env::var("COOPFOLIO_TEST_POSTGRES_URL") else {
            println!("SKIPPED: the explorer on PostgreSQL: COOPFOLIO_TEST_POSTGRES_URL not set");
            return None;
        };
        let name = format!(
            "coopfolio_web_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        psql(&server, &format!("CREATE DATABASE {name}"));
        let (base, query) = match server.split_once('?') {
            Some((base, query)) => (base, format!("?{query}")),
            None => (server.as_str(), String::new()),
        };
        let authority = base.find("://").map_or(0, |i| i + 3);
        let host = match base[authority..].find('/') {
            Some(slash) => &base[..authority + slash],
            None => base,
        };
        let url = format!("{host}/{name}{query}");
        Some(PostgresDatabase { server, name, url })
    }
}

impl PostgresDatabase {
    /// A store on this database with the demo workspace loaded, as on SQLite.
    pub(crate) async fn demo_store(&self) -> Store {
        let store = Store::connect(&self.url).await.expect("connecting");
        coopfolio::demo::load_demo(&store, &DemoOptions::default(), Codelists::bundled())
            .await
            .expect("loading the demo on PostgreSQL");
        store
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        psql(
            &self.server,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

fn psql(url: &str, sql: &str) {
    let status = std::process::Command::new("psql")
        .arg(url)
        .args(["-v", "ON_ERROR_STOP=1", "-qc", sql])
        .status()
        .expect("psql runs");
    assert!(status.success(), "psql failed: {sql}");
}

#[tokio::test]
async fn postgres_lists_counts_and_downloads_as_sqlite_does() {
    let Some(database) = PostgresDatabase::create() else {
        return;
    };
    let postgres = database.demo_store().await;
    let sqlite = demo_store().await;
    let partner = sqlite.project_facets(&query()).await.unwrap().partners[0]
        .key
        .clone();
    let queries = [
        query(),
        ProjectQuery {
            text: Some("travailleurs decent".to_owned()),
            ..query()
        },
        ProjectQuery {
            text: Some("Démonstration".to_owned()),
            region: Some(IloRegion::Americas),
            ..query()
        },
        ProjectQuery {
            partner: Some(partner),
            markers: vec![Marker::SouthSouth],
            sort: ProjectSort::StartNewest,
            ..query()
        },
        ProjectQuery {
            partner_group: Some(PartnerGroup::Government),
            modality: Some(Modality::Earmarked),
            policy_area: Some(PolicyArea::SocialProtection),
            year: Some(2022),
            ..query()
        },
    ];
    let mut non_empty = 0;
    for query in queries {
        let on_sqlite: BTreeSet<String> = listed(&sqlite, &query).await.into_iter().collect();
        non_empty += usize::from(!on_sqlite.is_empty());
        let on_postgres: BTreeSet<String> = listed(&postgres, &query).await.into_iter().collect();
        assert_eq!(on_postgres, on_sqlite, "{query:?}");
        assert_eq!(
            postgres.project_facets(&query).await.unwrap(),
            sqlite.project_facets(&query).await.unwrap(),
            "facets of {query:?}"
        );
        let mut rows = Vec::new();
        for store in [&sqlite, &postgres] {
            let mut download = store.project_download(&query).await.unwrap();
            let mut all = Vec::new();
            while let Some(page) = download.next_page(store).await.unwrap() {
                all.extend(page);
            }
            all.sort_by(|a, b| a.identifier.cmp(&b.identifier));
            rows.push(all);
        }
        assert_eq!(rows[0].len(), on_sqlite.len());
        assert_eq!(rows[1], rows[0], "download of {query:?}");
    }
    assert!(non_empty >= 4, "the queries should mostly select something");
    postgres.close().await;
    sqlite.close().await;
    drop(database);
}
