//! Funding modalities: how money comes to the organisation (earmarked, unearmarked core voluntary, domestic
//! trust funds, assessed regular budget), and the rules, kept in `data/reference/modality-rules.csv`, that
//! read a modality from IATI's CRS channel code, EarmarkingCategory and AidType.

use std::sync::LazyLock;

use crate::reference::{coded_enum, read_csv, ReferenceError};

coded_enum! {
    /// How a contribution is given.
    pub enum Modality ("a funding modality") {
        /// Non-core voluntary funding earmarked for programmes and projects.
        Earmarked = "earmarked", [
            "Earmarked voluntary funding",
            "Contributions volontaires préaffectées",
            "Contribuciones voluntarias asignadas"
        ],
        /// Unearmarked core voluntary funding (the ILO's Regular Budget Supplementary Account).
        CoreVoluntary = "core_voluntary", [
            "Unearmarked core voluntary funding",
            "Contributions volontaires de base non préaffectées",
            "Contribuciones voluntarias básicas no asignadas"
        ],
        /// Domestic trust funds: a government funds the organisation's assistance in its own country.
        Domestic = "domestic", [
            "Domestic trust funds",
            "Fonds fiduciaires nationaux",
            "Fondos fiduciarios nacionales"
        ],
        /// Assessed contributions of member States: not voluntary, shown apart.
        RegularBudget = "regular_budget", [
            "Regular budget (assessed contributions)",
            "Budget ordinaire (contributions mises en recouvrement)",
            "Presupuesto ordinario (contribuciones prorrateadas)"
        ],
    }
}

impl Modality {
    /// Whether the modality is voluntary funding: everything but the assessed regular budget.
    pub fn is_voluntary(self) -> bool {
        self != Modality::RegularBudget
    }
}

/// The field of IATI data a modality rule reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModalityField {
    CrsChannel,
    EarmarkingCategory,
    AidType,
}

impl ModalityField {
    fn code(self) -> &'static str {
        match self {
            ModalityField::CrsChannel => "crs_channel",
            ModalityField::EarmarkingCategory => "earmarking_category",
            ModalityField::AidType => "aid_type",
        }
    }

    fn in_words(self) -> &'static str {
        match self {
            ModalityField::CrsChannel => "CRS channel",
            ModalityField::EarmarkingCategory => "earmarking category",
            ModalityField::AidType => "aid type",
        }
    }
}

/// One rule: a code of one field and the modality it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModalityRule {
    pub line: usize,
    pub field: ModalityField,
    pub code: String,
    pub modality: Modality,
    pub note: String,
    description: String,
}

/// The ordered rules of a modality file. Build with [`ModalityRules::from_str_data`] or use
/// [`ModalityRules::bundled`].
#[derive(Debug, Clone)]
pub struct ModalityRules {
    rules: Vec<ModalityRule>,
}

const FILE: &str = "modality-rules.csv";
const COLUMNS: [&str; 4] = ["field", "code", "modality", "note"];

static BUNDLED: LazyLock<ModalityRules> = LazyLock::new(|| {
    // Fixed at build time and parsed by a test: a failure here is a build defect.
    ModalityRules::from_str_data(include_str!("../../../data/reference/modality-rules.csv"))
        .expect("the bundled modality rules are valid")
});

impl ModalityRules {
    /// The rules bundled with the program, parsed on first use.
    pub fn bundled() -> &'static ModalityRules {
        &BUNDLED
    }

    /// Parse a modality file (the format is described at the top of the bundled file).
    pub fn from_str_data(text: &str) -> Result<ModalityRules, ReferenceError> {
        let records = read_csv(FILE, text, &COLUMNS)?;
        let mut rules = Vec::with_capacity(records.len());
        for record in records {
            let [field, code, modality, note] = <[String; 4]>::try_from(record.fields.clone())
                .expect("read_csv gives as many fields as columns");
            let field = match field.as_str() {
                "crs_channel" => ModalityField::CrsChannel,
                "earmarking_category" => ModalityField::EarmarkingCategory,
                "aid_type" => ModalityField::AidType,
                other => {
                    return Err(record.error(
                        FILE,
                        format!("'{other}' is not a field: expected crs_channel, earmarking_category or aid_type"),
                    ))
                }
            };
            if code.is_empty() {
                return Err(record.error(FILE, "the code is empty"));
            }
            let modality: Modality = modality.parse().map_err(|e| record.error(FILE, e))?;
            let description = if note.is_empty() {
                format!(
                    "{} {code} → {modality} (modality rules, line {})",
                    field.in_words(),
                    record.line
                )
            } else {
                format!(
                    "{} {code} → {modality} (modality rules, line {}: {note})",
                    field.in_words(),
                    record.line
                )
            };
            rules.push(ModalityRule {
                line: record.line,
                field,
                code,
                modality,
                note,
                description,
            });
        }
        Ok(ModalityRules { rules })
    }

    /// The rules in the order they are tried.
    pub fn rules(&self) -> &[ModalityRule] {
        &self.rules
    }

    /// The modality IATI data points to, with the rule that said so; None when no rule matches, which the
    /// caller shows as "modality unknown" rather than guessing.
    ///
    /// `aid_types` are the activity's or transaction's aid-type codes of vocabulary 1 (several may be given);
    /// `earmarking_category` is the EarmarkingCategory code (aid type vocabulary 2); `crs_channel` is the
    /// CRS channel code of the receiving account. Codes are compared exactly after trimming, except that
    /// aid-type letters are compared without regard to case ("b02" is B02).
    pub fn derive(
        &self,
        aid_types: &[&str],
        earmarking_category: Option<&str>,
        crs_channel: Option<&str>,
    ) -> Option<(Modality, String)> {
        let crs_channel = crs_channel.map(str::trim);
        let earmarking_category = earmarking_category.map(str::trim);
        self.rules
            .iter()
            .find(|rule| match rule.field {
                ModalityField::CrsChannel => crs_channel == Some(rule.code.as_str()),
                ModalityField::EarmarkingCategory => {
                    earmarking_category == Some(rule.code.as_str())
                }
                ModalityField::AidType => aid_types
                    .iter()
                    .any(|aid_type| aid_type.trim().eq_ignore_ascii_case(&rule.code)),
            })
            .map(|rule| (rule.modality, rule.description.clone()))
    }
}

impl std::fmt::Display for ModalityField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Modality::*;

    /// Aid types, earmarking category, CRS channel, and the modality expected.
    type Case = (
        &'static [&'static str],
        Option<&'static str>,
        Option<&'static str>,
        Option<Modality>,
    );

    #[test]
    fn iati_fields_map_to_modalities() {
        let rules = ModalityRules::bundled();
        let cases: &[Case] = &[
            (&[], None, Some("41144"), Some(CoreVoluntary)),
            (&[], None, Some("41302"), Some(RegularBudget)),
            (&[], None, Some("41701"), Some(Earmarked)),
            // The channel code outranks the aid type.
            (&["C01"], None, Some("41144"), Some(CoreVoluntary)),
            (&["B02"], None, Some("41302"), Some(RegularBudget)),
            (&[], Some("1"), None, Some(CoreVoluntary)),
            (&[], Some("2"), None, Some(Earmarked)),
            (&[], Some("3"), None, Some(Earmarked)),
            (&[], Some("4"), None, Some(Earmarked)),
            // The earmarking category outranks the aid type.
            (&["B02"], Some("3"), None, Some(Earmarked)),
            (&["B01"], None, None, Some(CoreVoluntary)),
            (&["B02"], None, None, Some(CoreVoluntary)),
            (&["B021"], None, None, Some(CoreVoluntary)),
            (&["B022"], None, None, Some(CoreVoluntary)),
            (&["b022 "], None, None, Some(CoreVoluntary)),
            (&["B03"], None, None, Some(Earmarked)),
            (&["B031"], None, None, Some(Earmarked)),
            (&["B032"], None, None, Some(Earmarked)),
            (&["B033"], None, None, Some(Earmarked)),
            (&["B04"], None, None, Some(Earmarked)),
            (&["C01"], None, None, Some(Earmarked)),
            (&["D02"], None, None, Some(Earmarked)),
            // Several aid types: the first rule of the file that any of them matches wins (B02 comes first).
            (&["C01", "B02"], None, None, Some(CoreVoluntary)),
            (&["A01"], None, None, None),
            (&["F01"], None, None, None),
            (&[], Some("9"), Some("41114"), None),
            (&[], None, None, None),
        ];
        for &(aid_types, earmarking, channel, expected) in cases {
            let derived = rules.derive(aid_types, earmarking, channel);
            assert_eq!(
                derived.as_ref().map(|(m, _)| *m),
                expected,
                "{aid_types:?} {earmarking:?} {channel:?}: {derived:?}"
            );
        }
        let (_, rule) = rules.derive(&[], None, Some("41144")).unwrap();
        assert!(
            rule.starts_with("CRS channel 41144 → core_voluntary (modality rules, line "),
            "{rule}"
        );
    }

    #[test]
    fn every_bundled_code_is_in_its_codelist() {
        let codelists = crate::codelists::Codelists::bundled();
        for rule in ModalityRules::bundled().rules() {
            let list = match rule.field {
                ModalityField::CrsChannel => "CRSChannelCode",
                ModalityField::EarmarkingCategory => "EarmarkingCategory",
                ModalityField::AidType => "AidType",
            };
            assert_eq!(
                codelists.contains(list, &rule.code),
                Some(true),
                "line {}: {} is not in {list}",
                rule.line,
                rule.code
            );
        }
    }

    #[test]
    fn voluntary_and_labels() {
        assert!(Earmarked.is_voluntary());
        assert!(CoreVoluntary.is_voluntary());
        assert!(Domestic.is_voluntary());
        assert!(!RegularBudget.is_voluntary());
        assert_eq!(
            Modality::ALL.iter().map(|m| m.code()).collect::<Vec<_>>(),
            ["earmarked", "core_voluntary", "domestic", "regular_budget"]
        );
        assert_eq!(
            CoreVoluntary.label("en"),
            "Unearmarked core voluntary funding"
        );
        assert_eq!(Domestic.label("fr"), "Fonds fiduciaires nationaux");
    }

    #[test]
    fn bad_files_say_which_line_and_what() {
        let header = "field,code,modality,note\n";
        let cases = [
            (
                "channel,41144,core_voluntary,\n",
                "modality-rules.csv, line 2: 'channel' is not a field: expected crs_channel, earmarking_category or aid_type",
            ),
            (
                "aid_type,,earmarked,\n",
                "modality-rules.csv, line 2: the code is empty",
            ),
            (
                "aid_type,C01,non_core,\n",
                "modality-rules.csv, line 2: 'non_core' is not a funding modality: expected one of earmarked, core_voluntary, domestic, regular_budget",
            ),
        ];
        for (body, expected) in cases {
            let err = ModalityRules::from_str_data(&format!("{header}{body}")).unwrap_err();
            assert_eq!(err.to_string(), expected);
        }
    }
}
