//! The shape of the workspace: every partner group, modality, status, inquiry kind and stage is there;
//! identifiers are unique; the hierarchy links both ways; everything is labelled synthetic.

use std::collections::{BTreeSet, HashMap, HashSet};

use coopfolio_core::modality::Modality;
use coopfolio_core::partner_group::PartnerGroup;
use coopfolio_core::partnership::{
    AgreementStatus, EarmarkTarget, InquiryKind, InquiryStage, PartnershipLevel,
};
use coopfolio_core::policy_area::{PolicyArea, PolicyAreaMap};
use coopfolio_demo::{effective_group, ORGANISATION_REF};
use rust_decimal::Decimal;

use crate::WORKSPACE;

#[test]
fn every_partner_group_is_represented_and_keys_are_unique() {
    let groups: BTreeSet<PartnerGroup> = WORKSPACE.partners.iter().map(effective_group).collect();
    assert_eq!(groups.len(), PartnerGroup::ALL.len(), "{groups:?}");
    let keys: HashSet<&str> = WORKSPACE.partners.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys.len(), WORKSPACE.partners.len());
    assert!(
        (140..=170).contains(&WORKSPACE.partners.len()),
        "{}",
        WORKSPACE.partners.len()
    );
    for partner in &WORKSPACE.partners {
        assert!(partner.synthetic);
        assert!(
            partner.names.en.ends_with("(synthetic)"),
            "{}",
            partner.names.en
        );
        assert!(
            partner.names.fr.ends_with("(synthétique)"),
            "{}",
            partner.names.fr
        );
        assert!(
            partner.names.es.ends_with("(sintético)"),
            "{}",
            partner.names.es
        );
    }
}

#[test]
fn agreements_cover_every_modality_and_status_and_add_up() {
    let modalities: BTreeSet<Modality> = WORKSPACE.agreements.iter().map(|a| a.modality).collect();
    assert_eq!(modalities.len(), Modality::ALL.len());
    let statuses: BTreeSet<AgreementStatus> =
        WORKSPACE.agreements.iter().map(|a| a.status).collect();
    assert_eq!(statuses.len(), AgreementStatus::ALL.len());
    let partners: HashSet<&str> = WORKSPACE.partners.iter().map(|p| p.key.as_str()).collect();
    let activities: HashSet<&str> = WORKSPACE
        .activities
        .iter()
        .map(|a| a.identifier.as_str())
        .collect();
    let mut keys = HashSet::new();
    let mut earmarked = 0;
    for agreement in &WORKSPACE.agreements {
        assert!(keys.insert(agreement.key.as_str()));
        assert!(agreement.synthetic);
        assert!(agreement.title.en.ends_with("(synthetic)"));
        let shares: Decimal = agreement.partners.iter().map(|p| p.amount).sum();
        assert_eq!(shares, agreement.amount, "{}", agreement.key);
        let scheduled: Decimal = agreement.instalments.iter().map(|i| i.amount).sum();
        assert_eq!(scheduled, agreement.amount, "{}", agreement.key);
        assert!(agreement
            .partners
            .iter()
            .all(|p| partners.contains(p.partner_key.as_str())));
        if matches!(
            agreement.status,
            AgreementStatus::Pledged | AgreementStatus::Negotiating
        ) {
            assert_eq!(agreement.signature_date, None, "{}", agreement.key);
            assert!(agreement
                .instalments
                .iter()
                .all(|i| i.received_date.is_none()));
        }
        if !agreement.earmarking.is_empty() {
            earmarked += 1;
            let allocated: Decimal = agreement.earmarking.iter().map(|e| e.amount).sum();
            assert_eq!(allocated, agreement.amount, "{}", agreement.key);
        }
        for earmark in &agreement.earmarking {
            if let EarmarkTarget::Project(identifier) = &earmark.target {
                assert!(activities.contains(identifier.as_str()), "{identifier}");
            }
        }
    }
    assert!(earmarked > WORKSPACE.agreements.len() / 2);
    let confidential = WORKSPACE
        .agreements
        .iter()
        .filter(|a| a.confidential)
        .count();
    assert!(
        (1..WORKSPACE.agreements.len() / 10).contains(&confidential),
        "{confidential}"
    );
    // Some instalments arrived late, some in part.
    let partial = WORKSPACE
        .agreements
        .iter()
        .flat_map(|a| &a.instalments)
        .filter(|i| i.received_amount.is_some_and(|r| r < i.amount))
        .count();
    let late = WORKSPACE
        .agreements
        .iter()
        .flat_map(|a| &a.instalments)
        .filter(|i| {
            i.received_date
                .as_deref()
                .is_some_and(|r| r > i.due_date.as_str())
        })
        .count();
    assert!(partial > 0 && late > 0, "{partial} {late}");
    let targets: BTreeSet<&str> = WORKSPACE
        .agreements
        .iter()
        .flat_map(|a| &a.earmarking)
        .map(|e| match e.target {
            EarmarkTarget::Project(_) => "project",
            EarmarkTarget::Country(_) => "country",
            EarmarkTarget::PolicyArea(_) => "policy_area",
        })
        .collect();
    assert_eq!(targets.len(), 3);
    let currencies: BTreeSet<&str> = WORKSPACE
        .agreements
        .iter()
        .map(|a| a.currency.as_str())
        .collect();
    assert!(currencies.len() >= 8, "{currencies:?}");
}

#[test]
fn activities_form_a_linked_hierarchy_with_unique_identifiers() {
    let by_identifier: HashMap<&str, &coopfolio_iati::model::Activity> = WORKSPACE
        .activities
        .iter()
        .map(|a| (a.identifier.as_str(), a))
        .collect();
    assert_eq!(by_identifier.len(), WORKSPACE.activities.len());
    let programmes = WORKSPACE
        .activities
        .iter()
        .filter(|a| a.hierarchy == Some(1))
        .count();
    assert_eq!(programmes, 70);
    for activity in &WORKSPACE.activities {
        assert!(activity
            .identifier
            .starts_with(&format!("{ORGANISATION_REF}-")));
        assert_eq!(
            activity
                .reporting_org
                .as_ref()
                .unwrap()
                .reference
                .as_deref(),
            Some(ORGANISATION_REF)
        );
        let labels = ["(synthetic)", "(synthétique)", "(sintético)"];
        assert!(activity
            .titles
            .iter()
            .zip(labels)
            .all(|(t, label)| t.text.ends_with(label)));
        assert_eq!(activity.titles.len(), 3);
        for related in &activity.related_activities {
            let other = by_identifier[related.identifier.as_str()];
            let back = match related.kind.as_deref() {
                Some("1") => "2",
                Some("2") => "1",
                other => panic!("{other:?}"),
            };
            assert!(
                other
                    .related_activities
                    .iter()
                    .any(|r| r.identifier == activity.identifier && r.kind.as_deref() == Some(back)),
                "{} -> {}",
                activity.identifier,
                other.identifier
            );
        }
        let roles: BTreeSet<&str> = activity
            .participating_orgs
            .iter()
            .filter_map(|o| o.role.as_deref())
            .collect();
        assert_eq!(
            roles,
            BTreeSet::from(["1", "2", "3", "4"]),
            "{}",
            activity.identifier
        );
    }
}

#[test]
fn sectors_give_all_nine_policy_areas_and_markers_are_set() {
    let map = PolicyAreaMap::bundled();
    let areas: BTreeSet<PolicyArea> = WORKSPACE
        .activities
        .iter()
        .flat_map(|a| &a.sectors)
        .flat_map(|s| map.areas_for_sector(&s.code).iter().copied())
        .collect();
    assert_eq!(areas.len(), PolicyArea::ALL.len());
    let count = |marker: fn(&coopfolio_core::partnership::ProjectMarkers) -> bool| {
        WORKSPACE
            .project_extras
            .iter()
            .filter(|e| marker(&e.markers))
            .count()
            * 1000
            / WORKSPACE.project_extras.len()
    };
    let south_south = count(|m| m.south_south);
    let joint_un = count(|m| m.joint_un);
    let mptf = count(|m| m.mptf);
    assert!(
        (50..=110).contains(&south_south),
        "south-south {south_south}‰"
    );
    assert!((25..=80).contains(&joint_un), "joint UN {joint_un}‰");
    assert!((15..=50).contains(&mptf), "MPTF {mptf}‰");
    let triangular = WORKSPACE
        .activities
        .iter()
        .filter(|a| a.collaboration_type.as_deref() == Some("8"))
        .count();
    assert_eq!(
        triangular,
        WORKSPACE
            .project_extras
            .iter()
            .filter(|e| e.markers.triangular)
            .count()
    );
    let revised = WORKSPACE
        .activities
        .iter()
        .filter(|a| a.budgets.iter().any(|b| b.kind.as_deref() == Some("2")))
        .count();
    assert!(revised > 0);
    let currencies: BTreeSet<&str> = WORKSPACE
        .activities
        .iter()
        .flat_map(|a| &a.transactions)
        .filter_map(|t| t.value.as_ref()?.currency.as_deref())
        .collect();
    assert!(
        ["USD", "EUR", "GBP", "CHF"]
            .iter()
            .all(|c| currencies.contains(c)),
        "{currencies:?}"
    );
}

#[test]
fn partnerships_and_inquiries_cover_every_level_kind_and_stage() {
    let levels: BTreeSet<_> = WORKSPACE
        .partnerships
        .iter()
        .map(|p| p.level.code())
        .collect();
    assert_eq!(levels.len(), PartnershipLevel::ALL.len());
    assert!(WORKSPACE
        .partnerships
        .iter()
        .all(|p| p.synthetic && p.members.len() >= 4));
    let kinds: BTreeSet<InquiryKind> = WORKSPACE.inquiries.iter().map(|i| i.kind).collect();
    assert_eq!(kinds.len(), InquiryKind::ALL.len());
    let stages: BTreeSet<InquiryStage> = WORKSPACE.inquiries.iter().map(|i| i.stage).collect();
    assert_eq!(stages.len(), InquiryStage::ALL.len());
    let agreements: HashMap<&str, _> = WORKSPACE
        .agreements
        .iter()
        .map(|a| (a.key.as_str(), a))
        .collect();
    let mut linked = 0;
    for inquiry in &WORKSPACE.inquiries {
        assert!(inquiry.synthetic && inquiry.email.ends_with("@example.org"));
        let last = inquiry
            .events
            .last()
            .map_or(InquiryStage::Received, |e| e.to_stage);
        assert_eq!(last, inquiry.stage, "{}", inquiry.key);
        let mut at = inquiry.received_at.as_str();
        for event in &inquiry.events {
            assert!(event.at.as_str() >= at, "{}", inquiry.key);
            at = &event.at;
        }
        assert_eq!(
            inquiry.first_response_at.is_some(),
            !inquiry.events.is_empty()
        );
        if let Some(key) = &inquiry.agreement_key {
            linked += 1;
            assert_eq!(inquiry.stage, InquiryStage::Won);
            let agreement = agreements[key.as_str()];
            assert_eq!(agreement.inquiry_key.as_ref(), Some(&inquiry.key));
            assert_eq!(
                inquiry.partner_key.as_ref(),
                Some(&agreement.partners[0].partner_key)
            );
            assert!(inquiry.received_at.as_str() < agreement.signature_date.as_deref().unwrap());
        }
    }
    assert!(linked >= 2, "{linked}");
    assert!(WORKSPACE
        .inquiries
        .iter()
        .any(|i| i.stage == InquiryStage::Declined));
}

#[test]
fn the_model_goes_through_json_with_amounts_as_exact_text() {
    let agreement = &WORKSPACE.agreements[0];
    let json = serde_json::to_string(agreement).unwrap();
    assert!(
        json.contains(&format!("\"amount\":\"{}\"", agreement.amount)),
        "{json}"
    );
    let back: coopfolio_core::partnership::Agreement = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, agreement);
    let inquiry = &WORKSPACE.inquiries[0];
    let back: coopfolio_core::partnership::Inquiry =
        serde_json::from_str(&serde_json::to_string(inquiry).unwrap()).unwrap();
    assert_eq!(&back, inquiry);
}
