//! The home page: headline figures of the current and previous biennium with their method
//! notes, the synthetic label, and the trend chart.

use axum::http::StatusCode;
use coopfolio_core::period::Period;
use coopfolio_store::figures::Basis;

use crate::{demo_store, escaped, get};

#[tokio::test]
async fn home_shows_the_2022_23_contributions_with_their_method() {
    let store = demo_store().await;
    let page = get(&store, "/").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = &page.body;
    // The demo is calibrated on the ILO's US$965.1 million for 2022-23.
    assert!(html.contains(">2022-23"), "no 2022-23 section");
    assert!(html.contains("US$965."), "no 965 million in:\n{html}");
    assert!(html.contains("How is this computed?"));
    let contributions = store
        .contributions(Period::Biennium(2022), Basis::Approved)
        .await
        .unwrap();
    assert!(html.contains(&escaped(&contributions.method.basis)));
    assert!(html.contains("2022-01-01 to 2023-12-31"));
    let portfolio = store.portfolio(Period::Biennium(2022)).await.unwrap();
    assert!(html.contains(&format!(
        "<span class=\"headline\">{}</span>",
        portfolio.value.programmes_active
    )));
    // The top contributor is named in the ranking.
    let first = &contributions.value.ranking[0];
    assert!(html.contains(&escaped(&first.names.en)));
    assert!(html.contains("Synthetic data"));
    store.close().await;
}

#[tokio::test]
async fn home_draws_the_trend_as_inline_svg_without_script() {
    let store = demo_store().await;
    let html = get(&store, "/").await.body;
    assert!(html.contains("<svg viewBox="));
    assert!(html.matches("<rect class=\"bar\"").count() >= 2);
    assert!(!html.contains("<script"));
    assert!(!html.contains("style=\""));
    store.close().await;
}
