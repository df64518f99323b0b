//! Multi-stakeholder partnerships and the inquiry pipeline of the demo: a handful of named partnerships at
//! each level, and about sixty inquiries in every kind and every stage, each with the moves that brought
//! it there, who made them and when. Some won inquiries are linked to the agreement they became.

use coopfolio_core::partner_group::PartnerGroup;
use coopfolio_core::partnership::{
    Agreement, Inquiry, InquiryEvent, InquiryKind, InquiryStage, Partnership, PartnershipLevel,
    PartnershipMember,
};
use coopfolio_core::policy_area::PolicyArea;

use crate::date::Day;
use crate::partners::{labelled, PartnerProfile};
use crate::portfolio::as_of;
use crate::rng::Rng;

/// The partnerships: name, level, policy areas and how many members.
#[rustfmt::skip]
const PARTNERSHIPS: &[([&str; 3], PartnershipLevel, &[PolicyArea], usize)] = &[
    (["Global Alliance to End Child and Forced Labour", "Alliance mondiale pour l'élimination du travail des enfants et du travail forcé", "Alianza Mundial para Erradicar el Trabajo Infantil y el Trabajo Forzoso"], PartnershipLevel::Global, &[PolicyArea::ChildForcedLabour], 9),
    (["Global Coalition for Social Protection Floors", "Coalition mondiale pour les socles de protection sociale", "Coalición Mundial por los Pisos de Protección Social"], PartnershipLevel::Global, &[PolicyArea::SocialProtection], 8),
    (["Equal Pay Coalition", "Coalition pour l'égalité salariale", "Coalición por la Igualdad Salarial"], PartnershipLevel::Global, &[PolicyArea::GenderNonDiscrimination], 6),
    (["Global Youth Employment Initiative", "Initiative mondiale pour l'emploi des jeunes", "Iniciativa Mundial por el Empleo Juvenil"], PartnershipLevel::Global, &[PolicyArea::Employment, PolicyArea::Skills], 10),
    (["Regional Partnership on Fair Labour Migration", "Partenariat régional pour des migrations de main-d'œuvre équitables", "Alianza Regional por una Migración Laboral Equitativa"], PartnershipLevel::Regional, &[PolicyArea::Migration], 6),
    (["Regional Platform for a Just Energy Transition", "Plateforme régionale pour une transition énergétique juste", "Plataforma Regional para una Transición Energética Justa"], PartnershipLevel::Regional, &[PolicyArea::JustTransition, PolicyArea::Employment], 5),
    (["National Compact for Safe and Healthy Workplaces", "Pacte national pour des lieux de travail sûrs et salubres", "Pacto Nacional por Lugares de Trabajo Seguros y Saludables"], PartnershipLevel::National, &[PolicyArea::OccupationalSafetyHealth], 5),
    (["National Financial Inclusion Partnership", "Partenariat national pour l'inclusion financière", "Alianza Nacional para la Inclusión Financiera"], PartnershipLevel::National, &[PolicyArea::SocialFinance], 4),
];

const ROLES: &[&str] = &[
    "funding member",
    "implementing partner",
    "technical partner",
    "advocacy partner",
    "observer",
];

pub(crate) fn partnerships(rng: &mut Rng, profiles: &[PartnerProfile]) -> Vec<Partnership> {
    PARTNERSHIPS
        .iter()
        .enumerate()
        .map(|(number, (names, level, areas, size))| {
            let mut members: Vec<PartnershipMember> = Vec::new();
            // The organisation's constituents chair: a social partner leads every partnership.
            let social_partners: Vec<&PartnerProfile> = profiles
                .iter()
                .filter(|p| p.group == PartnerGroup::SocialPartner)
                .collect();
            members.push(PartnershipMember {
                partner_key: rng.pick(&social_partners).partner.key.clone(),
                role: "chair".to_owned(),
            });
            while members.len() < *size {
                let profile = rng.pick(profiles);
                if members.iter().all(|m| m.partner_key != profile.partner.key) {
                    members.push(PartnershipMember {
                        partner_key: profile.partner.key.clone(),
                        role: (*rng.pick(ROLES)).to_owned(),
                    });
                }
            }
            Partnership {
                key: format!("msp-{:02}", number + 1),
                name: labelled(*names),
                level: *level,
                policy_areas: areas.to_vec(),
                members,
                synthetic: true,
            }
        })
        .collect()
}

/// How many inquiries the demo has.
const INQUIRIES: usize = 60;

/// The staff who move inquiries through the pipeline.
const OFFICERS: &[&str] = &[
    "amina.diallo@demo.invalid",
    "lucas.moreau@demo.invalid",
    "sofia.herrera@demo.invalid",
    "kenji.sato@demo.invalid",
];

const FIRST_NAMES: &[&str] = &[
    "Ana",
    "Babajide",
    "Chloé",
    "Dmitri",
    "Esperanza",
    "Farah",
    "Gabriel",
    "Hana",
    "Ibrahim",
    "Julia",
    "Kwame",
    "Leila",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
];
const LAST_NAMES: &[&str] = &[
    "Alvarez", "Bello", "Chen", "Dubois", "Eze", "Fischer", "García", "Haddad", "Ito", "Jensen",
    "Kamau", "Lopez", "Mensah", "Nguyen", "Okafor", "Petrov",
];

/// The stage an inquiry moves to from `stage` on the way to a win.
fn next_on_the_way(stage: InquiryStage) -> InquiryStage {
    match stage {
        InquiryStage::Received => InquiryStage::Triaged,
        InquiryStage::Triaged => InquiryStage::InDialogue,
        InquiryStage::InDialogue => InquiryStage::ConceptNote,
        InquiryStage::ConceptNote => InquiryStage::Appraisal,
        InquiryStage::Appraisal => InquiryStage::Agreement,
        _ => InquiryStage::Won,
    }
}

/// The inquiries. Won inquiries are linked to agreements signed after they arrived, whose `inquiry_key`
/// is set to match.
pub(crate) fn inquiries(
    rng: &mut Rng,
    profiles: &[PartnerProfile],
    agreements: &mut [Agreement],
) -> Vec<Inquiry> {
    let recipients = crate::portfolio::recipient_countries();
    // Agreements a won inquiry may have led to: signed from 2023 on, by a partner that is not a member
    // State's aid agency or a large multilateral (the ones that write in unannounced).
    let mut winnable: Vec<usize> = agreements
        .iter()
        .enumerate()
        .filter(|(_, a)| {
            a.status.counts_as_approved()
                && a.signature_date
                    .as_deref()
                    .is_some_and(|d| d >= "2023-06-01")
                && a.partners.len() == 1
        })
        .filter(|(_, a)| {
            profiles
                .iter()
                .find(|p| p.partner.key == a.partners[0].partner_key)
                .is_some_and(|p| {
                    matches!(
                        p.group,
                        PartnerGroup::Foundation
                            | PartnerGroup::PrivateSector
                            | PartnerGroup::CivilSociety
                            | PartnerGroup::Academic
                            | PartnerGroup::SocialPartner
                    )
                })
        })
        .map(|(i, _)| i)
        .collect();
    rng.shuffle(&mut winnable);

    let mut inquiries = Vec::with_capacity(INQUIRIES);
    for number in 0..INQUIRIES {
        // The first rounds go through every stage and every kind, so that each appears whatever the seed.
        let stage = if number < 2 * InquiryStage::ALL.len() {
            InquiryStage::ALL[number % InquiryStage::ALL.len()]
        } else {
            *rng.pick(InquiryStage::ALL)
        };
        let kind = InquiryKind::ALL[(number + rng.below(2) as usize) % InquiryKind::ALL.len()];
        let key = format!("inq-{:03}", number + 1);
        let won_agreement = if stage == InquiryStage::Won {
            winnable.pop()
        } else {
            None
        };
        // A won inquiry arrived some months before its agreement was signed; others any time since 2023.
        let received = match won_agreement {
            Some(index) => {
                let signature = agreements[index].signature_date.as_deref().expect("signed");
                Day::parse(signature).plus(-rng.between(90, 300))
            }
            None => Day(rng.between(Day::parse("2023-01-02").0, as_of().plus(-20).0)),
        };
        let mut at = received.0 * 24 * 60 + rng.between(7 * 60, 19 * 60);
        let received_at = minutes_to_rfc3339(at);

        // The path: along the pipeline to the stage, or to the stage a decline or a closure came from.
        let final_stage = stage;
        let stop = match final_stage {
            InquiryStage::Declined => *rng.pick(&[
                InquiryStage::Triaged,
                InquiryStage::InDialogue,
                InquiryStage::ConceptNote,
                InquiryStage::Appraisal,
            ]),
            InquiryStage::Closed => *rng.pick(&[
                InquiryStage::Received,
                InquiryStage::Triaged,
                InquiryStage::InDialogue,
            ]),
            InquiryStage::Won => InquiryStage::Agreement,
            other => other,
        };
        let mut events = Vec::new();
        let mut current = InquiryStage::Received;
        let mut first_response_at = None;
        let step_limit = as_of().0 * 24 * 60;
        let push = |from: InquiryStage,
                    to: InquiryStage,
                    at: &mut i64,
                    rng: &mut Rng,
                    events: &mut Vec<InquiryEvent>| {
            *at = (*at + rng.between(2 * 60, 20 * 24 * 60)).min(step_limit);
            events.push(InquiryEvent {
                at: minutes_to_rfc3339(*at),
                by: (*rng.pick(OFFICERS)).to_owned(),
                from_stage: from,
                to_stage: to,
                note: note(to).to_owned(),
            });
        };
        while current != stop {
            let next = next_on_the_way(current);
            push(current, next, &mut at, rng, &mut events);
            current = next;
        }
        if final_stage != stop {
            push(current, final_stage, &mut at, rng, &mut events);
        }
        if let Some(first) = events.first() {
            first_response_at = Some(first.at.clone());
        }

        let first = *rng.pick(FIRST_NAMES);
        let last = *rng.pick(LAST_NAMES);
        let (organisation, partner_group, partner_key, agreement_key) = match won_agreement {
            Some(index) => {
                let agreement = &mut agreements[index];
                agreement.inquiry_key = Some(key.clone());
                let partner_key = agreement.partners[0].partner_key.clone();
                let profile = profiles
                    .iter()
                    .find(|p| p.partner.key == partner_key)
                    .expect("agreement partners exist");
                (
                    profile.partner.names.en.clone(),
                    Some(profile.group),
                    Some(partner_key),
                    Some(agreement.key.clone()),
                )
            }
            None => {
                let group = *rng.pick(&[
                    PartnerGroup::Foundation,
                    PartnerGroup::PrivateSector,
                    PartnerGroup::CivilSociety,
                    PartnerGroup::Academic,
                    PartnerGroup::Government,
                    PartnerGroup::SocialPartner,
                ]);
                let named = format!("{last} {} (synthetic)", organisation_word(group));
                (named, rng.percent(80).then_some(group), None, None)
            }
        };
        let country = rng.percent(85).then(|| rng.pick(&recipients).0.clone());
        let areas = vec![*rng.pick(PolicyArea::ALL)];
        inquiries.push(Inquiry {
            key,
            kind,
            name: format!("{first} {last}"),
            email: format!("{}.{}@example.org", ascii(first), ascii(last)),
            organisation,
            partner_group,
            country,
            policy_areas: areas,
            message: message(kind).to_owned(),
            consent: true,
            received_at,
            stage: final_stage,
            events,
            first_response_at,
            partner_key,
            agreement_key,
            synthetic: true,
        });
    }
    inquiries
}

fn minutes_to_rfc3339(minutes: i64) -> String {
    Day(minutes.div_euclid(24 * 60)).at(minutes.rem_euclid(24 * 60))
}

fn note(stage: InquiryStage) -> &'static str {
    match stage {
        InquiryStage::Received => "",
        InquiryStage::Triaged => "Routed to the partnerships team for follow-up.",
        InquiryStage::InDialogue => "First call held; interest confirmed on both sides.",
        InquiryStage::ConceptNote => "Concept note requested and drafted with the technical unit.",
        InquiryStage::Appraisal => "Concept note under appraisal: budget and risks reviewed.",
        InquiryStage::Agreement => "Terms agreed; agreement sent for signature.",
        InquiryStage::Won => "Agreement signed.",
        InquiryStage::Declined => {
            "Outside the organisation's mandate or capacity; declined with thanks."
        }
        InquiryStage::Closed => "No reply after two reminders; closed.",
    }
}

fn message(kind: InquiryKind) -> &'static str {
    match kind {
        InquiryKind::FundingQuestion => "We would like to know how our organisation could fund work on decent jobs in our region. (synthetic)",
        InquiryKind::PartnershipIdea => "We propose a partnership on skills and apprenticeships with our member companies. (synthetic)",
        InquiryKind::DevelopmentProject => "We are preparing a development project on social protection and seek technical cooperation. (synthetic)",
        InquiryKind::Other => "Could you send us your latest report on partnerships & results? (synthetic)",
    }
}

fn organisation_word(group: PartnerGroup) -> &'static str {
    match group {
        PartnerGroup::Foundation => "Foundation",
        PartnerGroup::PrivateSector => "Holdings",
        PartnerGroup::CivilSociety => "Community Network",
        PartnerGroup::Academic => "Research Institute",
        PartnerGroup::Government => "Municipal Council",
        _ => "Workers' Union",
    }
}

fn ascii(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'é' => 'e',
            'í' => 'i',
            c => c,
        })
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}
