//! Roll-ups: the contributor a partner counts as in rankings. UNDP, UNICEF and the other UN entities count as
//! "United Nations", the Commission's services as "European Union", so that a contributor ranking reads like
//! the organisation's own. The rules are data (`data/reference/rollups.csv`), matched on the partner's
//! identifier or group; a partner no rule matches counts as itself.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::partner_group::PartnerGroup;
use crate::reference::{read_csv, starts_with_ignore_case, Names, ReferenceError};

/// The contributor a partner rolls up into.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RollupTarget {
    /// Lower case, digits and hyphens: `united-nations`.
    pub code: String,
    pub name_en: String,
    pub name_fr: String,
    pub name_es: String,
}

impl RollupTarget {
    /// The name in `lang` ("en", "fr", "es"); English for any other language.
    pub fn name(&self, lang: &str) -> &str {
        match crate::reference::lang_index(lang) {
            1 => &self.name_fr,
            2 => &self.name_es,
            _ => &self.name_en,
        }
    }
}

/// The ordered roll-up rules of a file. Build with [`Rollups::from_str_data`] or use [`Rollups::bundled`].
#[derive(Debug, Clone)]
pub struct Rollups {
    rules: Vec<RollupRule>,
    targets: Vec<RollupTarget>,
}

#[derive(Debug, Clone)]
struct RollupRule {
    identifier: Option<Identifier>,
    group: Option<PartnerGroup>,
    /// Index into `targets`.
    target: usize,
}

#[derive(Debug, Clone)]
enum Identifier {
    Exact(String),
    Prefix(String),
}

const FILE: &str = "rollups.csv";
const COLUMNS: [&str; 7] = [
    "identifier",
    "partner_group",
    "code",
    "name_en",
    "name_fr",
    "name_es",
    "note",
];

static BUNDLED: LazyLock<Rollups> = LazyLock::new(|| {
    // Fixed at build time and parsed by a test: a failure here is a build defect.
    Rollups::from_str_data(include_str!("../../../data/reference/rollups.csv"))
        .expect("the bundled roll-up rules are valid")
});

impl Rollups {
    /// The rules bundled with the program, parsed on first use.
    pub fn bundled() -> &'static Rollups {
        &BUNDLED
    }

    /// Parse a roll-up file (the format is described at the top of the bundled file). An empty file (a
    /// header and no rules) is allowed: it turns roll-ups off.
    pub fn from_str_data(text: &str) -> Result<Rollups, ReferenceError> {
        let records = read_csv(FILE, text, &COLUMNS)?;
        let mut rules = Vec::with_capacity(records.len());
        let mut targets: Vec<RollupTarget> = Vec::new();
        let mut target_index: HashMap<String, usize> = HashMap::new();
        for record in records {
            let [identifier, group, code, name_en, name_fr, name_es, _note] =
                <[String; 7]>::try_from(record.fields.clone())
                    .expect("read_csv gives as many fields as columns");
            let identifier = if identifier.is_empty() {
                None
            } else if identifier
                .strip_suffix('*')
                .unwrap_or(&identifier)
                .contains('*')
            {
                return Err(record.error(
                    FILE,
                    format!("'{identifier}': a * may only end an identifier prefix"),
                ));
            } else if let Some(prefix) = identifier.strip_suffix('*') {
                Some(Identifier::Prefix(prefix.to_owned()))
            } else {
                Some(Identifier::Exact(identifier))
            };
            let group = if group.is_empty() {
                None
            } else {
                Some(
                    group
                        .parse::<PartnerGroup>()
                        .map_err(|e| record.error(FILE, e))?,
                )
            };
            if identifier.is_none() && group.is_none() {
                return Err(record.error(
                    FILE,
                    "a roll-up rule needs an identifier, a partner group or both",
                ));
            }
            if code.is_empty()
                || !code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(record.error(
                    FILE,
                    format!("'{code}' is not a contributor code: use lower-case letters, digits and hyphens"),
                ));
            }
            if name_en.is_empty() || name_fr.is_empty() || name_es.is_empty() {
                return Err(record.error(FILE, "the name is needed in English, French and Spanish"));
            }
            let target = RollupTarget {
                code,
                name_en,
                name_fr,
                name_es,
            };
            let index = match target_index.get(&target.code) {
                Some(&index) if targets[index] == target => index,
                Some(&index) => {
                    let first = &targets[index];
                    return Err(record.error(
                        FILE,
                        format!(
                            "'{}' is named differently on an earlier line ({} / {} / {}): every row with the same code must give the same names",
                            target.code, first.name_en, first.name_fr, first.name_es
                        ),
                    ));
                }
                None => {
                    target_index.insert(target.code.clone(), targets.len());
                    targets.push(target);
                    targets.len() - 1
                }
            };
            rules.push(RollupRule {
                identifier,
                group,
                target: index,
            });
        }
        Ok(Rollups { rules, targets })
    }

    /// The contributor a partner counts as, or None when it counts as itself.
    pub fn roll_up(&self, reference: Option<&str>, group: PartnerGroup) -> Option<&RollupTarget> {
        let reference = reference.map(str::trim).filter(|r| !r.is_empty());
        self.rules
            .iter()
            .find(|rule| {
                let identifier_matches = match (&rule.identifier, reference) {
                    (None, _) => true,
                    (Some(Identifier::Exact(exact)), Some(r)) => r.eq_ignore_ascii_case(exact),
                    (Some(Identifier::Prefix(prefix)), Some(r)) => {
                        starts_with_ignore_case(r, prefix)
                    }
                    (Some(_), None) => false,
                };
                identifier_matches && rule.group.is_none_or(|g| g == group)
            })
            .map(|rule| &self.targets[rule.target])
    }

    /// Every contributor something rolls up into, in the order the file first names them.
    pub fn targets(&self) -> &[RollupTarget] {
        &self.targets
    }

    /// The names of a contributor code, for a ranking that lists codes.
    pub fn target(&self, code: &str) -> Option<&RollupTarget> {
        self.targets.iter().find(|t| t.code == code)
    }
}

impl From<&RollupTarget> for Names {
    fn from(target: &RollupTarget) -> Names {
        Names {
            en: target.name_en.clone(),
            fr: target.name_fr.clone(),
            es: target.name_es.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partner_group::PartnerGroupRules;

    /// Derive the group from the bundled rules, then roll up, as the store will.
    fn contributor(reference: &str, organisation_type: &str) -> Option<&'static str> {
        let group = PartnerGroupRules::bundled()
            .derive(Some(reference), Some(organisation_type))
            .group;
        Rollups::bundled()
            .roll_up(Some(reference), group)
            .map(|t| t.code.as_str())
    }

    #[test]
    fn real_partners_roll_up_like_the_organisations_rankings() {
        let cases = [
            ("XM-DAC-41114", "40", Some("united-nations")), // UNDP
            ("XM-DAC-41122", "40", Some("united-nations")), // UNICEF
            ("XM-DAC-928", "40", Some("united-nations")),   // WHO
            ("XM-OCHA-CERF", "40", Some("united-nations")),
            ("XI-IATI-UNPF", "40", Some("united-nations")), // MPTF Office pooled funds
            ("41AAA", "40", Some("united-nations")),        // UNOPS
            ("XI-IATI-EC_ECHO", "15", Some("european-union")),
            ("XI-IATI-EC_INTPA", "15", Some("european-union")),
            ("XM-DAC-918-3", "15", None), // the EIB ranks on its own
            ("XM-DAC-44000", "40", None), // the World Bank ranks on its own
            ("GB-GOV-1", "10", None),
            ("XI-IATI-CWSEC", "40", None),
        ];
        for (reference, organisation_type, expected) in cases {
            assert_eq!(
                contributor(reference, organisation_type),
                expected,
                "{reference}"
            );
        }
        let un = Rollups::bundled()
            .roll_up(Some("XM-DAC-41114"), PartnerGroup::UnitedNations)
            .unwrap();
        assert_eq!(un.name("en"), "United Nations");
        assert_eq!(un.name("fr"), "Nations Unies");
        assert_eq!(un.name("es"), "Naciones Unidas");
        assert_eq!(
            Rollups::bundled().target("european-union").unwrap().name_fr,
            "Union européenne"
        );
    }

    #[test]
    fn rules_by_identifier_and_group_first_match_wins() {
        let rollups = Rollups::from_str_data(
            "identifier,partner_group,code,name_en,name_fr,name_es,note\n\
             XM-DAC-44*,,world-bank-group,World Bank Group,Groupe de la Banque mondiale,Grupo Banco Mundial,\n\
             XI-IATI-WBTF,ifi,world-bank-group,World Bank Group,Groupe de la Banque mondiale,Grupo Banco Mundial,\n\
             ,united_nations,united-nations,United Nations,Nations Unies,Naciones Unidas,\n",
        )
        .unwrap();
        let code = |reference: Option<&str>, group| {
            rollups.roll_up(reference, group).map(|t| t.code.clone())
        };
        assert_eq!(
            code(Some("xm-dac-44001"), PartnerGroup::Ifi).as_deref(),
            Some("world-bank-group")
        );
        assert_eq!(
            code(Some("XI-IATI-WBTF"), PartnerGroup::Ifi).as_deref(),
            Some("world-bank-group")
        );
        // Both conditions must hold.
        assert_eq!(code(Some("XI-IATI-WBTF"), PartnerGroup::Other), None);
        assert_eq!(code(None, PartnerGroup::Ifi), None);
        assert_eq!(
            code(None, PartnerGroup::UnitedNations).as_deref(),
            Some("united-nations")
        );
        assert_eq!(rollups.targets().len(), 2);
    }

    #[test]
    fn bad_files_say_which_line_and_what() {
        let header = "identifier,partner_group,code,name_en,name_fr,name_es,note\n";
        let cases = [
            (
                ",,un,UN,ONU,ONU,\n",
                "rollups.csv, line 2: a roll-up rule needs an identifier, a partner group or both",
            ),
            (
                ",united_nations,United Nations,UN,ONU,ONU,\n",
                "rollups.csv, line 2: 'United Nations' is not a contributor code: use lower-case letters, digits and hyphens",
            ),
            (
                ",united_nations,un,UN,,ONU,\n",
                "rollups.csv, line 2: the name is needed in English, French and Spanish",
            ),
            (
                ",united_nations,un,UN,ONU,ONU,\nXM-DAC-41*,,un,United Nations,ONU,ONU,\n",
                "rollups.csv, line 3: 'un' is named differently on an earlier line (UN / ONU / ONU): every row with the same code must give the same names",
            ),
            (
                ",nations,un,UN,ONU,ONU,\n",
                "rollups.csv, line 2: 'nations' is not a partner group: expected one of government, european_union, intergovernmental, united_nations, ifi, private_sector, foundation, social_partner, civil_society, academic, other",
            ),
        ];
        for (body, expected) in cases {
            let err = Rollups::from_str_data(&format!("{header}{body}")).unwrap_err();
            assert_eq!(err.to_string(), expected);
        }
        let empty = Rollups::from_str_data(header).unwrap();
        assert_eq!(
            empty.roll_up(Some("XM-DAC-41114"), PartnerGroup::UnitedNations),
            None
        );
    }
}
