//! The partner, country, policy-area, partnership and funding pages, each checked against the
//! store: totals agree with the ranking, lists with the explorer, and a confidential agreement
//! is counted but never shown.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use coopfolio_core::partner_group::PartnerGroup;
use coopfolio_core::period::Period;
use coopfolio_core::policy_area::PolicyArea;
use coopfolio_core::rollup::Rollups;
use coopfolio_demo::DemoOptions;
use coopfolio_store::figures::Basis;
use coopfolio_store::portal::ProjectQuery;
use rust_decimal::Decimal;

use crate::{demo_store, escaped, get, Page};

/// The number in `<strong id="result-count">`.
fn count(page: &Page) -> u64 {
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let marker = "<strong id=\"result-count\">";
    let start = page.body.find(marker).expect("a count") + marker.len();
    let end = start + page.body[start..].find('<').unwrap();
    page.body[start..end].parse().expect("a number")
}

/// The text of the last cell of the table row whose header cell links `label`.
fn row_total(page: &Page, label: &str) -> String {
    let start = page
        .body
        .find(&format!(">{label}</a></th>"))
        .unwrap_or_else(|| panic!("no row {label} in:\n{}", page.body));
    let row = &page.body[start..start + page.body[start..].find("</tr>").unwrap()];
    let cell = row.rfind("<td class=\"number\">").unwrap() + "<td class=\"number\">".len();
    row[cell..cell + row[cell..].find('<').unwrap()].to_owned()
}

#[tokio::test]
async fn the_partners_list_filters_by_group() {
    let store = demo_store().await;
    let all = store.partners(None, None).await.unwrap().value;
    let page = get(&store, "/partners").await;
    assert_eq!(count(&page), all.len() as u64);
    let governments = all.iter().filter(|p| p.group == "government").count() as u64;
    assert!(governments > 0 && governments < all.len() as u64);
    let page = get(&store, "/partners?group=government").await;
    assert_eq!(count(&page), governments);
    assert!(page.body.contains("How is this computed?"));
    let first_other = all.iter().find(|p| p.group != "government").unwrap();
    assert!(!page
        .body
        .contains(&format!("href=\"/partners/{}\"", first_other.key)));
    let page = get(&store, "/partners?group=aliens").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    store.close().await;
}

#[tokio::test]
async fn a_partner_page_total_equals_its_ranking_figure() {
    let store = demo_store().await;
    let period = Period::Biennium(2022);
    let contributions = store.contributions(period, Basis::Approved).await.unwrap();
    // The largest contributor that counts as itself, not as a roll-up.
    let line = contributions
        .value
        .ranking
        .iter()
        .find(|line| Rollups::bundled().target(&line.code).is_none())
        .expect("a partner ranked as itself");
    let partner = store
        .partner(&line.code, "en")
        .await
        .unwrap()
        .expect("stored");
    let in_period: Decimal = partner
        .contributions
        .value
        .iter()
        .filter(|amount| amount.period == "2022-23")
        .map(|amount| amount.usd)
        .sum();
    assert_eq!(in_period, line.usd);

    let page = get(&store, &format!("/partners/{}", line.code)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&escaped(&line.names.en)));
    // The same figure as the home page's ranking shows for it.
    let home = get(&store, "/").await.body;
    let link = format!(
        "<a href=\"{}\">",
        escaped(&format!("/partners/{}", line.code))
    );
    let section = home
        .find("id=\"biennium-2022-23\"")
        .expect("a 2022-23 section");
    let at = section
        + home[section..]
            .find(&link)
            .expect("the home ranking links the partner");
    let cell = at + home[at..].find("<td class=\"number\">").unwrap() + 19;
    let shown = &home[cell..cell + home[cell..].find('<').unwrap()];
    assert_eq!(row_total(&page, "2022-23"), shown);
    store.close().await;
}

#[tokio::test]
async fn a_confidential_agreement_is_counted_but_never_shown() {
    let store = demo_store().await;
    let workspace = coopfolio_demo::generate(&DemoOptions::default());
    let public_titles: BTreeSet<&str> = workspace
        .agreements
        .iter()
        .filter(|a| !a.confidential)
        .map(|a| a.title.en.as_str())
        .collect();
    let confidential: Vec<_> = workspace
        .agreements
        .iter()
        .filter(|a| a.confidential && !public_titles.contains(a.title.en.as_str()))
        .collect();
    assert!(
        !confidential.is_empty(),
        "the demo has confidential agreements"
    );
    let funding = get(&store, "/funding").await.body;
    for agreement in confidential.iter().take(10) {
        let title = escaped(&agreement.title.en);
        assert!(!funding.contains(&title));
        for share in &agreement.partners {
            let page = get(&store, &format!("/partners/{}", share.partner_key)).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(!page.body.contains(&title), "{} shown", agreement.key);
            let partner = store
                .partner(&share.partner_key, "en")
                .await
                .unwrap()
                .unwrap();
            assert!(partner.agreements.iter().all(|a| a.key != agreement.key));
            if agreement.status.counts_as_approved() {
                assert!(
                    partner
                        .contributions
                        .method
                        .withheld
                        .confidential_agreements
                        > 0
                );
                assert!(page.body.contains("confidential agreements are counted"));
            }
        }
    }
    store.close().await;
}

#[tokio::test]
async fn a_country_page_lists_its_projects_budget_and_partners() {
    let store = demo_store().await;
    let total = store
        .projects(&ProjectQuery {
            country: Some("KE".to_owned()),
            page: 1,
            page_size: 1,
            ..ProjectQuery::default()
        })
        .await
        .unwrap()
        .total;
    assert!(total > 0);
    let page = get(&store, "/countries/KE").await;
    assert_eq!(count(&page), total);
    assert!(page.body.contains("<h1>Kenya</h1>"));
    assert!(page.body.contains(">Africa</a>"));
    assert!(page.body.contains(&escaped("/projects?country=KE")));
    let budget = store.country_budget("KE").await.unwrap();
    assert!(!budget.value.is_empty());
    assert!(page
        .body
        .contains(&format!("<td>{}</td>", budget.value[0].year)));
    let place = store
        .place(coopfolio_store::entities::Scope::Country("KE"))
        .await
        .unwrap();
    assert!(!place.partners.is_empty());
    for partner in &place.partners {
        assert!(page
            .body
            .contains(&escaped(&format!("/partners/{}", partner.key))));
    }
    // The French page names the country and region in French.
    let french = get(&store, "/countries/KE?lang=fr").await.body;
    assert!(french.contains(">Afrique</a>"));
    assert_eq!(
        get(&store, "/countries/XX").await.status,
        StatusCode::NOT_FOUND
    );
    store.close().await;
}

#[tokio::test]
async fn a_policy_area_page_agrees_with_the_explorer() {
    let store = demo_store().await;
    for area in [PolicyArea::SocialProtection, PolicyArea::ALL[0]] {
        let total = store
            .projects(&ProjectQuery {
                policy_area: Some(area),
                page: 1,
                page_size: 1,
                ..ProjectQuery::default()
            })
            .await
            .unwrap()
            .total;
        let page = get(&store, &format!("/policy-areas/{}", area.code())).await;
        assert_eq!(count(&page), total, "{}", area.code());
        assert!(page.body.contains(&escaped(area.label("en"))));
    }
    assert_eq!(
        get(&store, "/policy-areas/astrology").await.status,
        StatusCode::NOT_FOUND
    );
    store.close().await;
}

#[tokio::test]
async fn partnership_pages_list_members_with_roles() {
    let store = demo_store().await;
    let partnerships = store.partnerships().await.unwrap();
    assert!(!partnerships.is_empty());
    let list = get(&store, "/partnerships").await;
    assert_eq!(list.status, StatusCode::OK);
    for partnership in &partnerships {
        assert!(list.body.contains(&escaped(&partnership.names.en)));
    }
    let detail = store
        .partnership(&partnerships[0].key)
        .await
        .unwrap()
        .unwrap();
    let page = get(&store, &format!("/partnerships/{}", partnerships[0].key)).await;
    assert_eq!(page.status, StatusCode::OK);
    for member in &detail.members {
        assert!(page.body.contains(&escaped(&member.partner_names.en)));
        assert!(page.body.contains(&escaped(&member.role)));
    }
    assert_eq!(
        get(&store, "/partnerships/none-such").await.status,
        StatusCode::NOT_FOUND
    );
    store.close().await;
}

#[tokio::test]
async fn the_funding_page_shows_the_period_by_modality_and_group() {
    let store = demo_store().await;
    let period = Period::Biennium(2020);
    let contributions = store.contributions(period, Basis::Approved).await.unwrap();
    let page = get(&store, "/funding?period=2020-21").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Voluntary contributions 2020-21"));
    // One ranking row per contributor, and a group row per group that contributed.
    assert_eq!(
        page.body.matches("<tr id=\"contributor-").count(),
        contributions.value.ranking.len()
    );
    for amount in &contributions.value.by_partner_group {
        let label = PartnerGroup::from_code(&amount.code).unwrap().label("en");
        assert!(page.body.contains(&escaped(label)), "{label}");
    }
    assert!(page.body.contains(&escaped(&contributions.method.basis)));
    // A roll-up lists the partners it gathers.
    if contributions
        .value
        .ranking
        .iter()
        .any(|line| Rollups::bundled().target(&line.code).is_some())
    {
        assert!(page.body.contains("Includes:"));
    }
    assert_eq!(
        get(&store, "/funding?period=someday").await.status,
        StatusCode::BAD_REQUEST
    );
    store.close().await;
}

#[tokio::test]
async fn the_funding_page_shows_what_was_received_on_asking() {
    let store = demo_store().await;
    let period = Period::Biennium(2020);
    let approved = store.contributions(period, Basis::Approved).await.unwrap();
    let received = store.contributions(period, Basis::Received).await.unwrap();
    assert_ne!(approved.value.total_usd, received.value.total_usd);
    let page = get(&store, "/funding?period=2020-21&basis=received").await;
    assert_eq!(page.status, StatusCode::OK);
    // The ranking is the received one, in its order, with the received basis as its method.
    let anchors: Vec<&str> = page
        .body
        .match_indices("<tr id=\"contributor-")
        .map(|(at, marker)| {
            let rest = &page.body[at + marker.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect();
    let expected: Vec<&str> = received
        .value
        .ranking
        .iter()
        .map(|line| line.code.as_str())
        .collect();
    assert_eq!(anchors, expected);
    assert!(page.body.contains(&escaped(&received.method.basis)));
    assert!(!page.body.contains(&escaped(&approved.method.basis)));
    // The period links keep the basis, and the basis switch keeps the period.
    let link = |href: &str| format!("href=\"{}\"", escaped(href));
    assert!(page
        .body
        .contains(&link("/funding?period=2022-23&basis=received")));
    assert!(page.body.contains(&link("/funding?period=2020-21")));
    assert!(page.body.contains(&format!(
        "{} aria-current=\"page\"",
        link("/funding?period=2020-21&basis=received")
    )));
    let bad = get(&store, "/funding?basis=promised").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("promised"));
    store.close().await;
}

#[tokio::test]
async fn pages_link_to_the_entities_they_mention() {
    let store = demo_store().await;
    let explorer = get(&store, "/projects?country=KE").await.body;
    assert!(explorer.contains(&format!(
        "<a href=\"{}\">Kenya</a>",
        escaped("/countries/KE")
    )));
    let home = get(&store, "/").await.body;
    assert!(home.contains(&format!("<a href=\"{}", escaped("/partners/"))));
    for nav in ["/funding", "/partners", "/partnerships"] {
        assert!(home.contains(&format!("<a href=\"{nav}\">")), "{nav}");
    }
    let project = store
        .projects(&ProjectQuery {
            country: Some("KE".to_owned()),
            page: 1,
            page_size: 1,
            ..ProjectQuery::default()
        })
        .await
        .unwrap()
        .projects[0]
        .identifier
        .clone();
    let page = get(&store, &format!("/projects/{project}")).await.body;
    assert!(page.contains(&escaped("/countries/KE")));
    assert!(page.contains(&escaped("/policy-areas/")));
    // Its funders that are stored partners link to their pages.
    let detail = store.project(&project).await.unwrap().unwrap();
    let references: Vec<String> = detail
        .participating_orgs
        .iter()
        .filter_map(|org| org.reference.clone())
        .collect();
    let partners = store.partner_keys_for_refs(&references).await.unwrap();
    assert!(
        !partners.is_empty(),
        "the demo names its partners as funders"
    );
    for key in partners.values() {
        assert!(
            page.contains(&escaped(&format!("/partners/{key}"))),
            "{key}"
        );
    }
    store.close().await;
}
