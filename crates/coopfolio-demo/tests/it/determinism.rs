//! The same seed and scale give the same workspace; another seed gives another; scale multiplies the
//! portfolio with identifiers that stay unique, and streaming gives what `generate` gives.

use std::collections::HashSet;

use coopfolio_demo::{generate, generate_activities_streaming, DemoOptions, PORTFOLIO_SIZE};

use crate::WORKSPACE;

#[test]
fn the_same_seed_gives_the_same_workspace() {
    let again = generate(&DemoOptions::default());
    assert_eq!(again.partners, WORKSPACE.partners);
    assert_eq!(again.agreements, WORKSPACE.agreements);
    assert_eq!(again.activities, WORKSPACE.activities);
    assert_eq!(again.project_extras, WORKSPACE.project_extras);
    assert_eq!(again.partnerships, WORKSPACE.partnerships);
    assert_eq!(again.inquiries, WORKSPACE.inquiries);
}

#[test]
fn another_seed_gives_another_workspace() {
    let other = generate(&DemoOptions { seed: 7, scale: 1 });
    assert_ne!(other.agreements, WORKSPACE.agreements);
    assert_ne!(other.activities, WORKSPACE.activities);
    assert_ne!(other.inquiries, WORKSPACE.inquiries);
}

#[test]
fn scale_two_doubles_the_portfolio_with_unique_identifiers() {
    let options = DemoOptions {
        seed: 2024,
        scale: 2,
    };
    let mut identifiers = HashSet::new();
    let mut streamed = Vec::new();
    generate_activities_streaming(&options, |activity, extras| {
        assert_eq!(activity.identifier, extras.activity_identifier);
        assert!(
            identifiers.insert(activity.identifier.clone()),
            "{}",
            activity.identifier
        );
        streamed.push(activity);
    });
    assert_eq!(streamed.len(), 2 * PORTFOLIO_SIZE);
    assert_eq!(WORKSPACE.activities.len(), PORTFOLIO_SIZE);
    // The first copy is the scale-1 portfolio itself.
    assert_eq!(&streamed[..PORTFOLIO_SIZE], &WORKSPACE.activities[..]);
    assert_ne!(
        streamed[PORTFOLIO_SIZE].titles,
        WORKSPACE.activities[0].titles
    );
}
