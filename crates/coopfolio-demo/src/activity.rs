//! One programme or project, written out in full from its plan and its funders: the IATI activity (titles
//! in three languages, participating organisations, dates, places, sectors, yearly budgets, incoming funds
//! and expenditure) with its raw XML, and the policy areas and markers the organisation adds to it.

use coopfolio_core::country::Countries;
use coopfolio_core::partner_group::PartnerGroup;
use coopfolio_core::partnership::{Agreement, ProjectExtras, ProjectMarkers};
use coopfolio_core::policy_area::{PolicyArea, PolicyAreaMap};
use coopfolio_core::rates::{Basis, Conversion, ExchangeRates};
use coopfolio_iati::model::{
    Activity, ActivityDate, AidType, Budget, Description, Narrative, OrganisationRef,
    ParticipatingOrg, RecipientCountry, RecipientRegion, RelatedActivity, Sector, Transaction,
    Value,
};
use rust_decimal::Decimal;

use crate::date::Day;
use crate::partners::PartnerProfile;
use crate::portfolio::{as_of, Planned};
use crate::rng::Rng;

/// What the activity builder needs from the rest of the workspace.
pub(crate) struct Context<'a> {
    pub(crate) profiles: &'a [PartnerProfile],
    pub(crate) agreements: &'a [Agreement],
    /// Partner key -> position in `profiles`.
    pub(crate) partner_index: &'a std::collections::HashMap<String, usize>,
}

/// Build the activity and its extras.
pub(crate) fn build(
    rng: &mut Rng,
    context: &Context<'_>,
    planned: &Planned,
    funders: &[(usize, Decimal)],
) -> (Activity, ProjectExtras) {
    let identifier = crate::identifier(planned.number);
    let funding_partners: Vec<&PartnerProfile> = {
        let mut seen: Vec<&PartnerProfile> = Vec::new();
        for (agreement, _) in funders {
            for share in &context.agreements[*agreement].partners {
                let profile = &context.profiles[context.partner_index[&share.partner_key]];
                if !seen.iter().any(|p| p.partner.key == profile.partner.key) {
                    seen.push(profile);
                }
            }
        }
        seen
    };
    let is_un = |p: &&PartnerProfile| p.group == PartnerGroup::UnitedNations;
    let mptf = funding_partners.iter().any(|p| p.partner.key == "un-mptf");
    let joint_un = !mptf && funding_partners.iter().any(is_un);

    // The currency the activity reports in: its first funder's, when the rates can carry it.
    let currency = funders
        .first()
        .map(|(agreement, _)| context.agreements[*agreement].currency.as_str().to_owned())
        .unwrap_or_else(|| "USD".to_owned());

    let total_usd: Decimal = funders
        .iter()
        .map(|(_, usd)| *usd)
        .sum::<Decimal>()
        .max(Decimal::from(80_000));

    let mut participating_orgs: Vec<ParticipatingOrg> = funding_partners
        .iter()
        .map(|profile| participating(profile, "1"))
        .collect();
    participating_orgs.push(demo_participating("2"));
    participating_orgs.push(demo_participating("3"));
    let implementer = if rng.percent(25) {
        let candidates: Vec<&PartnerProfile> = context
            .profiles
            .iter()
            .filter(|p| {
                matches!(
                    p.group,
                    PartnerGroup::CivilSociety
                        | PartnerGroup::SocialPartner
                        | PartnerGroup::Academic
                        | PartnerGroup::PrivateSector
                )
            })
            .collect();
        Some(*rng.pick(&candidates))
    } else {
        None
    };
    match implementer {
        Some(profile) => participating_orgs.push(participating(profile, "4")),
        None => participating_orgs.push(demo_participating("4")),
    }
    if joint_un {
        // A joint programme: another UN entity implements beside the organisation.
        let un: Vec<&PartnerProfile> = context
            .profiles
            .iter()
            .filter(is_un)
            .filter(|p| {
                !funding_partners
                    .iter()
                    .any(|f| f.partner.key == p.partner.key)
            })
            .filter(|p| p.partner.key != "un-mptf")
            .collect();
        let partner: &&PartnerProfile = rng.pick(&un);
        participating_orgs.push(participating(partner, "4"));
    }

    let (titles, descriptions) = texts(rng, planned);
    let status = if planned.start > as_of() {
        "1"
    } else if planned.end < as_of().plus(-180) {
        "4"
    } else if planned.end < as_of() {
        "3"
    } else {
        "2"
    };
    let mut dates = Vec::new();
    let started = planned.start <= as_of();
    let planned_start = if started {
        planned.start.plus(-rng.between(0, 60))
    } else {
        planned.start
    };
    dates.push(date("1", planned_start));
    if started {
        dates.push(date("2", planned.start));
    }
    let ended = planned.end <= as_of();
    dates.push(date(
        "3",
        if ended {
            planned.end.plus(-rng.between(0, 90))
        } else {
            planned.end
        },
    ));
    if ended {
        dates.push(date("4", planned.end));
    }

    let budgets = budgets(rng, planned, &currency, total_usd);
    let transactions = transactions(
        rng,
        planned,
        &identifier,
        &currency,
        &budgets,
        funders,
        context,
        implementer,
    );

    let mut related_activities = Vec::new();
    if let Some(parent) = planned.parent {
        related_activities.push(RelatedActivity {
            identifier: crate::identifier(parent),
            kind: Some("1".to_owned()),
        });
    }
    for child in &planned.children {
        related_activities.push(RelatedActivity {
            identifier: crate::identifier(*child),
            kind: Some("2".to_owned()),
        });
    }

    let mut activity = Activity {
        identifier: identifier.clone(),
        default_currency: Some(currency),
        default_lang: Some("en".to_owned()),
        last_updated: Some(crate::LAST_UPDATED.to_owned()),
        hierarchy: Some(i64::from(planned.hierarchy)),
        humanitarian: None,
        reporting_org: Some(crate::organisation()),
        titles,
        descriptions,
        participating_orgs,
        status: Some(status.to_owned()),
        dates,
        recipient_countries: planned
            .countries
            .iter()
            .map(|(code, percentage)| RecipientCountry {
                code: code.clone(),
                percentage: Some(Decimal::from(*percentage)),
            })
            .collect(),
        recipient_regions: planned
            .regions
            .iter()
            .map(|(code, percentage)| RecipientRegion {
                code: (*code).to_owned(),
                vocabulary: None,
                percentage: Some(Decimal::from(*percentage)),
            })
            .collect(),
        sectors: planned
            .sectors
            .iter()
            .map(|(code, percentage)| Sector {
                code: (*code).to_owned(),
                vocabulary: None,
                percentage: Some(Decimal::from(*percentage)),
            })
            .collect(),
        collaboration_type: Some(if planned.triangular { "8" } else { "1" }.to_owned()),
        default_flow_type: Some("10".to_owned()),
        default_finance_type: Some("110".to_owned()),
        default_tied_status: Some("5".to_owned()),
        default_aid_types: vec![AidType {
            code: "C01".to_owned(),
            vocabulary: None,
        }],
        budgets,
        transactions,
        related_activities,
        raw_xml: Vec::new(),
        // Generated activities come from no file; the reader's positions start at 1, so 0 says so.
        line: 0,
        column: 0,
        faults: 0,
    };
    activity.raw_xml = crate::xml::activity_xml(&activity).into_bytes();

    let map = PolicyAreaMap::bundled();
    let mut policy_areas: Vec<PolicyArea> = vec![planned.theme];
    for (sector, _) in &planned.sectors {
        for area in map.areas_for_sector(sector) {
            if !policy_areas.contains(area) {
                policy_areas.push(*area);
            }
        }
    }
    let extras = ProjectExtras {
        activity_identifier: identifier,
        policy_areas,
        markers: ProjectMarkers {
            south_south: planned.south_south,
            triangular: planned.triangular,
            joint_un,
            mptf,
        },
        synthetic: true,
    };
    (activity, extras)
}

fn date(kind: &str, day: Day) -> ActivityDate {
    ActivityDate {
        kind: kind.to_owned(),
        date: day.iso(),
    }
}

fn english(text: String) -> Vec<Narrative> {
    vec![Narrative {
        lang: Some("en".to_owned()),
        text,
    }]
}

fn participating(profile: &PartnerProfile, role: &str) -> ParticipatingOrg {
    ParticipatingOrg {
        reference: profile.partner.iati_ref.clone(),
        kind: profile.partner.organisation_type.clone(),
        role: Some(role.to_owned()),
        activity_identifier: None,
        crs_channel_code: None,
        names: english(profile.partner.names.en.clone()),
    }
}

fn demo_participating(role: &str) -> ParticipatingOrg {
    let organisation = crate::organisation();
    ParticipatingOrg {
        reference: organisation.reference,
        kind: organisation.kind,
        role: Some(role.to_owned()),
        activity_identifier: None,
        crs_channel_code: None,
        names: organisation.names,
    }
}

fn partner_ref(profile: &PartnerProfile) -> OrganisationRef {
    OrganisationRef {
        reference: profile.partner.iati_ref.clone(),
        kind: profile.partner.organisation_type.clone(),
        names: english(profile.partner.names.en.clone()),
        activity_identifier: None,
    }
}

/// `usd` US dollars as a value in `currency` on `date`: converted with the month's rate when the bundled
/// rates have it, else left in US dollars, so that every value the store reads can be converted back.
fn value(usd: Decimal, currency: &str, date: Day) -> Value {
    let rates = ExchangeRates::bundled();
    let converted = if currency == "USD" || date > Day::parse("2024-12-31") {
        None
    } else {
        match rates.to_usd(Decimal::ONE, currency, &date.iso()) {
            Conversion::Converted {
                rate,
                basis: Basis::Month,
                ..
            } => Some((currency, (usd * rate).round_dp(2))),
            _ => None,
        }
    };
    let (currency, amount) = converted.unwrap_or(("USD", usd.round_dp(2)));
    Value {
        amount,
        currency: Some(currency.to_owned()),
        value_date: Some(date.iso()),
    }
}

/// One original budget per calendar year of the activity (periods of a year at most, as IATI asks), and
/// for some activities a revised budget for a past year, which replaces the original of that period.
fn budgets(rng: &mut Rng, planned: &Planned, currency: &str, total_usd: Decimal) -> Vec<Budget> {
    let years: Vec<i64> = (planned.start.year()..=planned.end.year()).collect();
    let days = Decimal::from(planned.end.0 - planned.start.0 + 1);
    let revised_year = rng
        .percent(12)
        .then(|| *rng.pick(&years))
        .filter(|year| *year <= 2024);
    let mut budgets = Vec::new();
    for year in years {
        let start = planned.start.max(Day::from_ymd(year, 1, 1));
        let end = planned.end.min(Day::from_ymd(year, 12, 31));
        let status = if year <= as_of().year() { "2" } else { "1" };
        // Each year gets its share of the total by the days the activity runs in it.
        let each = (total_usd * Decimal::from(end.0 - start.0 + 1) / days).round_dp(2);
        budgets.push(Budget {
            kind: Some("1".to_owned()),
            status: Some(status.to_owned()),
            period_start: Some(start.iso()),
            period_end: Some(end.iso()),
            value: Some(value(each, currency, start)),
        });
        if revised_year == Some(year) {
            let factor = Decimal::from(rng.between(85, 115)) / Decimal::from(100);
            budgets.push(Budget {
                kind: Some("2".to_owned()),
                status: Some("2".to_owned()),
                period_start: Some(start.iso()),
                period_end: Some(end.iso()),
                value: Some(value(each * factor, currency, start)),
            });
        }
    }
    budgets
}

/// Incoming funds from each funder at the start of each year the activity has run, and the year's
/// expenditure towards its end, up to the demo's today.
#[allow(clippy::too_many_arguments)]
fn transactions(
    rng: &mut Rng,
    planned: &Planned,
    identifier: &str,
    currency: &str,
    budgets: &[Budget],
    funders: &[(usize, Decimal)],
    context: &Context<'_>,
    implementer: Option<&PartnerProfile>,
) -> Vec<Transaction> {
    let total_usd: Decimal = funders.iter().map(|(_, usd)| *usd).sum();
    let planned_total = total_usd.max(Decimal::from(80_000));
    let days = Decimal::from(planned.end.0 - planned.start.0 + 1);
    let mut transactions = Vec::new();
    let mut number = 0;
    let mut next_reference = || {
        number += 1;
        Some(format!("{identifier}-T{number}"))
    };
    let mut receiving = crate::organisation();
    receiving.activity_identifier = Some(identifier.to_owned());
    for budget in budgets.iter().filter(|b| b.kind.as_deref() == Some("1")) {
        let start = Day::parse(
            budget
                .period_start
                .as_deref()
                .expect("budgets have periods"),
        );
        let end = Day::parse(budget.period_end.as_deref().expect("budgets have periods"));
        if start > as_of() {
            break;
        }
        // The year's share of the activity's money, as its budget has it.
        let yearly_usd = planned_total * Decimal::from(end.0 - start.0 + 1) / days;
        for (agreement, usd) in funders {
            let received = start.plus(rng.between(10, 60)).min(end);
            if received > as_of() {
                continue;
            }
            let share = if total_usd.is_zero() {
                Decimal::ONE
            } else {
                *usd / total_usd
            };
            let factor = Decimal::from(rng.between(95, 105)) / Decimal::from(100);
            let lead = &context.agreements[*agreement].partners[0].partner_key;
            let provider = &context.profiles[context.partner_index[lead]];
            transactions.push(Transaction {
                reference: next_reference(),
                kind: Some("1".to_owned()),
                date: Some(received.iso()),
                value: Some(value(yearly_usd * share * factor, currency, received)),
                description: english(format!("Incoming funds {} (synthetic)", received.year())),
                provider_org: Some(partner_ref(provider)),
                receiver_org: Some(receiving.clone()),
                ..Transaction::default()
            });
        }
        let spent = end.min(as_of()).plus(-rng.between(0, 30)).max(start);
        let factor = Decimal::from(rng.between(70, 98)) / Decimal::from(100);
        transactions.push(Transaction {
            reference: next_reference(),
            kind: Some("4".to_owned()),
            date: Some(spent.iso()),
            value: Some(value(yearly_usd * factor, currency, spent)),
            description: english(format!("Expenditure {} (synthetic)", spent.year())),
            provider_org: Some(crate::organisation()),
            receiver_org: implementer.map(partner_ref),
            ..Transaction::default()
        });
    }
    transactions
}

/// Titles in English, French and Spanish, and a general description, all labelled synthetic.
fn texts(rng: &mut Rng, planned: &Planned) -> (Vec<Narrative>, Vec<Description>) {
    let phrase = *rng.pick(phrases(planned.theme));
    let countries = Countries::bundled();
    let place: [String; 3] = if planned.countries.is_empty() {
        match planned.region {
            Some(region)
                if planned
                    .regions
                    .first()
                    .is_some_and(|(code, _)| *code != "998") =>
            {
                [
                    region.label("en").to_owned(),
                    region.label("fr").to_owned(),
                    region.label("es").to_owned(),
                ]
            }
            _ => [
                "global".to_owned(),
                "mondial".to_owned(),
                "global".to_owned(),
            ],
        }
    } else {
        let names = |lang: &str| -> String {
            planned
                .countries
                .iter()
                .filter_map(|(code, _)| countries.get(code))
                .map(|country| country.names.get(lang).to_owned())
                .collect::<Vec<_>>()
                .join(", ")
        };
        [names("en"), names("fr"), names("es")]
    };
    let programme = planned.hierarchy == 1;
    let prefix: [&str; 3] = if programme {
        ["Programme: ", "Programme : ", "Programa: "]
    } else {
        ["", "", ""]
    };
    let titles = vec![
        narrative(
            None,
            format!("{}{} – {} (synthetic)", prefix[0], phrase[0], place[0]),
        ),
        narrative(
            Some("fr"),
            format!("{}{} – {} (synthétique)", prefix[1], phrase[1], place[1]),
        ),
        narrative(
            Some("es"),
            format!("{}{} – {} (sintético)", prefix[2], phrase[2], place[2]),
        ),
    ];
    let description = Description {
        kind: Some("1".to_owned()),
        narratives: vec![
            narrative(
                None,
                format!(
                    "Synthetic demo record. {} in {}, run with governments, employers' & workers' \
                     organisations (the \"tripartite\" constituents) <not real data>.",
                    phrase[0], place[0]
                ),
            ),
            narrative(
                Some("fr"),
                format!(
                    "Fiche de démonstration synthétique. {} : {}, avec les gouvernements et les \
                     organisations d'employeurs & de travailleurs <données fictives>.",
                    phrase[1], place[1]
                ),
            ),
            narrative(
                Some("es"),
                format!(
                    "Registro de demostración sintético. {}: {}, con los gobiernos y las \
                     organizaciones de empleadores y de trabajadores <datos ficticios>.",
                    phrase[2], place[2]
                ),
            ),
        ],
    };
    (titles, vec![description])
}

fn narrative(lang: Option<&str>, text: String) -> Narrative {
    Narrative {
        lang: Some(lang.unwrap_or("en").to_owned()),
        text,
    }
}

/// Title phrases by policy area, in English, French and Spanish.
fn phrases(area: PolicyArea) -> &'static [[&'static str; 3]] {
    match area {
        PolicyArea::Employment => &[
            [
                "Decent jobs for young people",
                "Des emplois décents pour les jeunes",
                "Empleos decentes para los jóvenes",
            ],
            [
                "Employment-intensive investment",
                "Investissements à forte intensité d'emploi",
                "Inversiones intensivas en empleo",
            ],
            [
                "Enterprise development and productive employment",
                "Développement des entreprises et emploi productif",
                "Desarrollo empresarial y empleo productivo",
            ],
        ],
        PolicyArea::SocialProtection => &[
            [
                "Extending social protection floors",
                "Étendre les socles de protection sociale",
                "Extender los pisos de protección social",
            ],
            [
                "Social health protection for informal workers",
                "Protection sociale de la santé des travailleurs informels",
                "Protección social de la salud para trabajadores informales",
            ],
        ],
        PolicyArea::ChildForcedLabour => &[
            [
                "Ending child labour in supply chains",
                "Éliminer le travail des enfants dans les chaînes d'approvisionnement",
                "Erradicar el trabajo infantil en las cadenas de suministro",
            ],
            [
                "Fighting forced labour and trafficking",
                "Lutter contre le travail forcé et la traite",
                "Combatir el trabajo forzoso y la trata",
            ],
        ],
        PolicyArea::Migration => &[
            [
                "Fair recruitment of migrant workers",
                "Recrutement équitable des travailleurs migrants",
                "Contratación equitativa de trabajadores migrantes",
            ],
            [
                "Labour migration governance",
                "Gouvernance des migrations de main-d'œuvre",
                "Gobernanza de la migración laboral",
            ],
        ],
        PolicyArea::SocialFinance => &[
            [
                "Inclusive finance for small enterprises",
                "Finance inclusive pour les petites entreprises",
                "Finanzas inclusivas para pequeñas empresas",
            ],
            [
                "Microinsurance for workers and their families",
                "Microassurance pour les travailleurs et leurs familles",
                "Microseguros para los trabajadores y sus familias",
            ],
        ],
        PolicyArea::Skills => &[
            [
                "Quality apprenticeships",
                "Apprentissages de qualité",
                "Aprendizajes de calidad",
            ],
            [
                "Skills for a changing world of work",
                "Des compétences pour un monde du travail en mutation",
                "Competencias para un mundo del trabajo en transformación",
            ],
        ],
        PolicyArea::OccupationalSafetyHealth => &[
            [
                "Safety and health at work in agriculture",
                "Sécurité et santé au travail dans l'agriculture",
                "Seguridad y salud en el trabajo agrícola",
            ],
            [
                "Vision Zero for safe workplaces",
                "Vision Zéro pour des lieux de travail sûrs",
                "Visión Cero para lugares de trabajo seguros",
            ],
        ],
        PolicyArea::JustTransition => &[
            [
                "Green jobs and a just transition",
                "Emplois verts et transition juste",
                "Empleos verdes y transición justa",
            ],
            [
                "Just energy transition for workers",
                "Transition énergétique juste pour les travailleurs",
                "Transición energética justa para los trabajadores",
            ],
        ],
        PolicyArea::GenderNonDiscrimination => &[
            [
                "Equal pay and women's economic empowerment",
                "Égalité salariale et autonomisation économique des femmes",
                "Igualdad salarial y empoderamiento económico de las mujeres",
            ],
            [
                "Ending violence and harassment at work",
                "Mettre fin à la violence et au harcèlement au travail",
                "Poner fin a la violencia y el acoso en el trabajo",
            ],
        ],
    }
}
