//! The partnership model: partners, the agreements through which they fund the organisation, the
//! multi-stakeholder partnerships they join, the inquiries that arrive through "contact us", and what the
//! organisation adds to an IATI activity (policy areas and markers). These are plain data shared by the
//! store, the web crate and the demo generator; money is an exact decimal in the currency as given, dates
//! are "YYYY-MM-DD" strings and instants RFC 3339 strings, so that nothing here needs a clock or a
//! calendar library.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::modality::Modality;
use crate::partner_group::PartnerGroup;
use crate::policy_area::PolicyArea;
use crate::reference::{coded_enum, Names};
use crate::value::CurrencyCode;

/// An organisation the organisation works with: a funder, an implementer, a member of a partnership.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partner {
    /// A stable slug, unique among partners ("uk-fcdo"): the key the other records refer to, and the one
    /// part of a partner that never changes when its name or identifier is corrected.
    pub key: String,
    /// The partner's name in English, French and Spanish.
    pub names: Names,
    /// The IATI organisation identifier ("GB-GOV-1"), where the partner has one.
    pub iati_ref: Option<String>,
    /// The IATI OrganisationType code ("10", "40"...), where known.
    pub organisation_type: Option<String>,
    /// ISO 3166-1 alpha-2 code of the partner's country; None for international organisations.
    pub country: Option<String>,
    /// A group set by hand; when None the group is derived from `iati_ref` and `organisation_type` by the
    /// partner-group rules.
    pub group_override: Option<PartnerGroup>,
    /// True for records made up by the demo generator, so that they can never pass for real data.
    pub synthetic: bool,
}

coded_enum! {
    /// Where an agreement stands. Only signed, active and closed agreements count as approved funding.
    pub enum AgreementStatus ("an agreement status") {
        /// The partner has announced the money; nothing is signed.
        Pledged = "pledged", ["Pledged", "Annoncé", "Anunciado"],
        /// Terms are being negotiated.
        Negotiating = "negotiating", ["Negotiating", "En négociation", "En negociación"],
        /// Signed, not yet started.
        Signed = "signed", ["Signed", "Signé", "Firmado"],
        /// Signed and running.
        Active = "active", ["Active", "En cours", "En curso"],
        /// Finished: the work is done and the money accounted for.
        Closed = "closed", ["Closed", "Clos", "Cerrado"],
        /// Abandoned before or after signature; never counted.
        Cancelled = "cancelled", ["Cancelled", "Annulé", "Cancelado"],
    }
}

impl AgreementStatus {
    /// Whether an agreement in this status counts as approved funding: signed, active or closed. Pledges
    /// and negotiations are not yet money, and a cancelled agreement no longer is.
    pub fn counts_as_approved(self) -> bool {
        matches!(
            self,
            AgreementStatus::Signed | AgreementStatus::Active | AgreementStatus::Closed
        )
    }
}

/// The core record of a partnership: who gives how much, on what terms, for what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// A stable slug, unique among agreements.
    pub key: String,
    /// The agreement's title in English, French and Spanish.
    pub title: Names,
    /// How the money comes: earmarked, core voluntary, domestic or regular budget.
    pub modality: Modality,
    pub status: AgreementStatus,
    /// The partner or partners who fund it, each with its share.
    pub partners: Vec<AgreementPartner>,
    /// "YYYY-MM-DD"; None until signed (pledged and negotiating agreements have none).
    pub signature_date: Option<String>,
    /// "YYYY-MM-DD": when the funded work starts.
    pub start_date: Option<String>,
    /// "YYYY-MM-DD": when the funded work ends.
    pub end_date: Option<String>,
    /// The currency of `amount`, of every partner share and of every instalment.
    pub currency: CurrencyCode,
    /// The whole amount, in `currency`: the sum of the partners' shares.
    #[serde(with = "decimal_text")]
    pub amount: Decimal,
    /// When the money is due and what has arrived.
    pub instalments: Vec<Instalment>,
    /// What the money is allocated to; empty for unearmarked funding.
    pub earmarking: Vec<Earmark>,
    /// True when the partner asked that the terms not be published: the agreement then counts in totals
    /// but its detail is withheld from public pages, and the method note says so.
    pub confidential: bool,
    /// The key of the inquiry the agreement came from, if it came from one.
    pub inquiry_key: Option<String>,
    /// True for records made up by the demo generator.
    pub synthetic: bool,
}

/// One funder of an agreement and its share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgreementPartner {
    /// The key of the [`Partner`].
    pub partner_key: String,
    /// This partner's share, in the agreement's currency.
    #[serde(with = "decimal_text")]
    pub amount: Decimal,
}

/// One payment of an agreement's schedule: what is due and what arrived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instalment {
    /// "YYYY-MM-DD".
    pub due_date: String,
    /// The amount due, in the agreement's currency.
    #[serde(with = "decimal_text")]
    pub amount: Decimal,
    /// "YYYY-MM-DD" when the money arrived; None while it has not.
    pub received_date: Option<String>,
    /// What arrived, in the agreement's currency; it may be less than `amount` (a partial payment).
    #[serde(with = "optional_decimal_text")]
    pub received_amount: Option<Decimal>,
}

/// Part of an agreement's money allocated to one project, country or policy area.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Earmark {
    pub target: EarmarkTarget,
    /// The allocated amount, in the agreement's currency.
    #[serde(with = "decimal_text")]
    pub amount: Decimal,
}

/// What earmarked money pays for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum EarmarkTarget {
    /// A programme or project, by IATI activity identifier.
    Project(String),
    /// A country, by ISO 3166-1 alpha-2 code.
    Country(String),
    /// A policy area.
    PolicyArea(PolicyArea),
}

coded_enum! {
    /// The reach of a multi-stakeholder partnership.
    pub enum PartnershipLevel ("a partnership level") {
        Global = "global", ["Global", "Mondial", "Mundial"],
        Regional = "regional", ["Regional", "Régional", "Regional"],
        National = "national", ["National", "National", "Nacional"],
    }
}

/// A named multi-stakeholder partnership: several partners working together on one or more policy areas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partnership {
    /// A stable slug, unique among partnerships.
    pub key: String,
    pub name: Names,
    pub level: PartnershipLevel,
    pub policy_areas: Vec<PolicyArea>,
    pub members: Vec<PartnershipMember>,
    /// True for records made up by the demo generator.
    pub synthetic: bool,
}

/// A partner's place in a multi-stakeholder partnership.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartnershipMember {
    /// The key of the [`Partner`].
    pub partner_key: String,
    /// What the partner does in it, in free text ("chair", "funding member", "implementing partner").
    pub role: String,
}

coded_enum! {
    /// What an inquiry is about, as the sender chose it on the form.
    pub enum InquiryKind ("an inquiry kind") {
        FundingQuestion = "funding_question", [
            "Funding question",
            "Question de financement",
            "Consulta sobre financiación"
        ],
        PartnershipIdea = "partnership_idea", [
            "Partnership idea",
            "Idée de partenariat",
            "Idea de alianza"
        ],
        DevelopmentProject = "development_project", [
            "Development project",
            "Projet de développement",
            "Proyecto de desarrollo"
        ],
        Other = "other", ["Other", "Autre", "Otro"],
    }
}

coded_enum! {
    /// Where an inquiry stands in the pipeline. The last three are outcomes: won (it became an agreement),
    /// declined (the organisation said no) or closed (it went no further for any other reason).
    pub enum InquiryStage ("an inquiry stage") {
        Received = "received", ["Received", "Reçue", "Recibida"],
        Triaged = "triaged", ["Triaged", "Triée", "Clasificada"],
        InDialogue = "in_dialogue", ["In dialogue", "En dialogue", "En diálogo"],
        ConceptNote = "concept_note", ["Concept note", "Note conceptuelle", "Nota conceptual"],
        Appraisal = "appraisal", ["Appraisal", "Évaluation", "Evaluación"],
        Agreement = "agreement", ["Agreement", "Accord", "Acuerdo"],
        Won = "won", ["Won", "Conclue", "Ganada"],
        Declined = "declined", ["Declined", "Déclinée", "Rechazada"],
        Closed = "closed", ["Closed", "Close", "Cerrada"],
    }
}

impl InquiryStage {
    /// Whether the inquiry has reached an outcome and left the pipeline.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            InquiryStage::Won | InquiryStage::Declined | InquiryStage::Closed
        )
    }
}

/// A message that arrived through "contact us", and its way through the pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inquiry {
    /// A stable slug, unique among inquiries.
    pub key: String,
    pub kind: InquiryKind,
    /// The sender's name.
    pub name: String,
    pub email: String,
    /// The organisation the sender writes for, as typed.
    pub organisation: String,
    /// The group the sender says the organisation belongs to, if they said.
    pub partner_group: Option<PartnerGroup>,
    /// ISO 3166-1 alpha-2 code of the sender's country, if given.
    pub country: Option<String>,
    pub policy_areas: Vec<PolicyArea>,
    pub message: String,
    /// The sender agreed that the organisation keeps and uses what they sent.
    pub consent: bool,
    /// RFC 3339: when the form was sent.
    pub received_at: String,
    /// Where the inquiry stands now: the `to_stage` of the last event, or received when there is none.
    pub stage: InquiryStage,
    /// Every move through the pipeline, oldest first.
    pub events: Vec<InquiryEvent>,
    /// RFC 3339: when staff first answered the sender; the time to first response is measured from
    /// `received_at` to this.
    pub first_response_at: Option<String>,
    /// The key of the [`Partner`] the inquiry was linked to.
    pub partner_key: Option<String>,
    /// The key of the [`Agreement`] a won inquiry led to.
    pub agreement_key: Option<String>,
    /// True for records made up by the demo generator.
    pub synthetic: bool,
}

/// One recorded move of an inquiry: who moved it, when, from where to where, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InquiryEvent {
    /// RFC 3339.
    pub at: String,
    /// The user who made the move (a user name or e-mail address).
    pub by: String,
    pub from_stage: InquiryStage,
    pub to_stage: InquiryStage,
    /// What the user wrote with the move; may be empty.
    pub note: String,
}

/// The markers of a programme or project that IATI data does not carry, or carries only in part.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectMarkers {
    /// South-South cooperation (IATI collaboration type 8 says "bilateral, triangular"; the organisation
    /// records South-South and triangular apart).
    pub south_south: bool,
    /// Triangular cooperation: a Northern partner supports South-South cooperation.
    pub triangular: bool,
    /// A joint programme of several UN entities.
    pub joint_un: bool,
    /// Funded by an allocation from a UN multi-partner trust fund.
    pub mptf: bool,
}

/// What the organisation adds to one of its IATI activities: the policy areas it reports the work under
/// and the markers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectExtras {
    /// The IATI identifier of the activity.
    pub activity_identifier: String,
    /// Set by hand; when empty the areas are mapped from the activity's DAC sectors.
    pub policy_areas: Vec<PolicyArea>,
    pub markers: ProjectMarkers,
    /// True for records made up by the demo generator.
    pub synthetic: bool,
}

/// Amounts go through serde as decimal text ("1250000.50"), never as a JSON number: a number would be read
/// as a float by most clients and lose the exactness the ledger promises. (The workspace builds
/// rust_decimal without its serde feature, so the spelling is chosen here.)
mod decimal_text {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(amount: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(amount)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        let text = String::deserialize(deserializer)?;
        crate::value::parse_amount(&text).map_err(serde::de::Error::custom)
    }
}

/// [`decimal_text`] for an amount that may be absent (null).
mod optional_decimal_text {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        amount: &Option<Decimal>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match amount {
            Some(amount) => serializer.collect_str(amount),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Decimal>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| crate::value::parse_amount(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approved_statuses_are_signed_active_and_closed() {
        let approved: Vec<&str> = AgreementStatus::ALL
            .iter()
            .filter(|s| s.counts_as_approved())
            .map(|s| s.code())
            .collect();
        assert_eq!(approved, ["signed", "active", "closed"]);
        assert_eq!(AgreementStatus::ALL.len(), 6);
    }

    #[test]
    fn codes_are_snake_case() {
        assert_eq!(
            InquiryStage::ALL
                .iter()
                .map(|s| s.code())
                .collect::<Vec<_>>(),
            [
                "received",
                "triaged",
                "in_dialogue",
                "concept_note",
                "appraisal",
                "agreement",
                "won",
                "declined",
                "closed"
            ]
        );
        assert_eq!(
            "funding_question".parse::<InquiryKind>(),
            Ok(InquiryKind::FundingQuestion)
        );
        assert!(InquiryStage::Declined.is_final());
        assert!(!InquiryStage::Appraisal.is_final());
        assert_eq!(PartnershipLevel::Regional.label("fr"), "Régional");
    }
}
