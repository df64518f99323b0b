//! Partner groups: the typology partnership staff use (government, European Union, United Nations, IFIs,
//! social partners...), and the rules, kept in `data/reference/partner-group-rules.csv`, that derive a
//! partner's group from its IATI organisation identifier and OrganisationType. The rules are data so that
//! an administrator can change them without a release; a partner's group can also be set by hand, which is
//! the store's business, not this file's.

use std::sync::LazyLock;

use crate::reference::{coded_enum, read_csv, starts_with_ignore_case, ReferenceError};

coded_enum! {
    /// Who a partner is, in the terms of the organisation's partnership reports.
    pub enum PartnerGroup ("a partner group") {
        /// Member States, their agencies, local and regional government.
        Government = "government", ["Government", "Gouvernement", "Gobierno"],
        /// The European Union's institutions (the European Commission's services).
        EuropeanUnion = "european_union", ["European Union", "Union européenne", "Unión Europea"],
        /// Intergovernmental organisations other than the UN, the EU and the banks.
        Intergovernmental = "intergovernmental", [
            "Other intergovernmental organisation",
            "Autre organisation intergouvernementale",
            "Otra organización intergubernamental"
        ],
        /// UN agencies, funds and programmes, multi-partner trust funds and joint UN programmes.
        UnitedNations = "united_nations", ["United Nations", "Nations Unies", "Naciones Unidas"],
        /// International financial institutions and development banks.
        Ifi = "ifi", [
            "International financial institution",
            "Institution financière internationale",
            "Institución financiera internacional"
        ],
        /// Companies, business associations, public-private partnerships.
        PrivateSector = "private_sector", ["Private sector", "Secteur privé", "Sector privado"],
        /// Private foundations.
        Foundation = "foundation", ["Foundation", "Fondation", "Fundación"],
        /// Workers' and employers' organisations.
        SocialPartner = "social_partner", [
            "Social partner (workers' and employers' organisations)",
            "Partenaire social (organisations de travailleurs et d'employeurs)",
            "Interlocutor social (organizaciones de trabajadores y de empleadores)"
        ],
        /// NGOs, faith-based organisations, parliamentarians' and local authorities' associations.
        CivilSociety = "civil_society", ["Civil society", "Société civile", "Sociedad civil"],
        /// Universities and research institutes.
        Academic = "academic", [
            "Academic and research institution",
            "Institution universitaire et de recherche",
            "Institución académica y de investigación"
        ],
        /// Everything else.
        Other = "other", ["Other", "Autre", "Otro"],
    }
}

/// The group derived for a partner and the rule that gave it, for the method note of a figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derivation {
    pub group: PartnerGroup,
    /// Which rule matched, in words: "identifier XM-DAC-41* → united_nations (partner-group rules,
    /// line 38: UN agencies, funds and programmes...)".
    pub rule: String,
}

/// The ordered rules of a partner-group file. Build with [`PartnerGroupRules::from_str_data`] or use
/// [`PartnerGroupRules::bundled`].
#[derive(Debug, Clone)]
pub struct PartnerGroupRules {
    rules: Vec<PartnerGroupRule>,
}

/// One rule: conditions on the identifier and the type, the group it gives, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerGroupRule {
    /// The line of the file the rule is on.
    pub line: usize,
    pub identifier: IdentifierPattern,
    /// OrganisationType codes, one of which must match; empty for any type.
    pub organisation_types: Vec<String>,
    pub group: PartnerGroup,
    pub note: String,
    /// The rule in words, as [`Derivation::rule`] gives it.
    description: String,
}

/// The identifier condition of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentifierPattern {
    /// Any partner, with or without an identifier.
    Any,
    /// The identifier is exactly this (ASCII case ignored).
    Exact(String),
    /// The identifier starts with this (ASCII case ignored).
    Prefix(String),
}

/// The file name used in messages, whatever file the text came from.
const FILE: &str = "partner-group-rules.csv";
const COLUMNS: [&str; 4] = ["identifier", "organisation_type", "group", "note"];

static BUNDLED: LazyLock<PartnerGroupRules> = LazyLock::new(|| {
    // The bundled file is fixed at build time and a test parses it, so a failure here is a build defect.
    PartnerGroupRules::from_str_data(include_str!(
        "../../../data/reference/partner-group-rules.csv"
    ))
    .expect("the bundled partner-group rules are valid")
});

impl PartnerGroupRules {
    /// The rules bundled with the program, parsed on first use.
    pub fn bundled() -> &'static PartnerGroupRules {
        &BUNDLED
    }

    /// Parse a rules file (the format is described at the top of the bundled file).
    pub fn from_str_data(text: &str) -> Result<PartnerGroupRules, ReferenceError> {
        let records = read_csv(FILE, text, &COLUMNS)?;
        let mut rules = Vec::with_capacity(records.len());
        for record in records {
            let [identifier, types, group, note] = <[String; 4]>::try_from(record.fields.clone())
                .expect("read_csv gives as many fields as columns");
            let identifier = match identifier.strip_suffix('*') {
                _ if identifier.is_empty() => IdentifierPattern::Any,
                Some(prefix) if prefix.contains('*') => {
                    return Err(record.error(
                        FILE,
                        format!("'{identifier}': a * may only end an identifier prefix"),
                    ))
                }
                Some(prefix) => IdentifierPattern::Prefix(prefix.to_owned()),
                None if identifier.contains('*') => {
                    return Err(record.error(
                        FILE,
                        format!("'{identifier}': a * may only end an identifier prefix"),
                    ))
                }
                None => IdentifierPattern::Exact(identifier),
            };
            let organisation_types: Vec<String> =
                types.split_whitespace().map(str::to_owned).collect();
            if let Some(bad) = organisation_types
                .iter()
                .find(|code| !code.bytes().all(|b| b.is_ascii_digit()))
            {
                return Err(record.error(
                    FILE,
                    format!("'{bad}' is not an OrganisationType code (codes are numbers such as 10 or 40; separate several with spaces)"),
                ));
            }
            let group: PartnerGroup = group.parse().map_err(|e| record.error(FILE, e))?;
            let description = describe(record.line, &identifier, &organisation_types, group, &note);
            rules.push(PartnerGroupRule {
                line: record.line,
                identifier,
                organisation_types,
                group,
                note,
                description,
            });
        }
        if rules.is_empty() {
            return Err(ReferenceError::File {
                file: FILE,
                message: "there are no rules".to_owned(),
            });
        }
        Ok(PartnerGroupRules { rules })
    }

    /// The rules in the order they are tried.
    pub fn rules(&self) -> &[PartnerGroupRule] {
        &self.rules
    }

    /// The group for a partner with this identifier and OrganisationType code: the first rule that
    /// matches, or `other` when none does (only possible when a replacement file drops the final catch-all).
    pub fn derive(&self, reference: Option<&str>, organisation_type: Option<&str>) -> Derivation {
        let reference = reference.map(str::trim).filter(|r| !r.is_empty());
        let organisation_type = organisation_type.map(str::trim).filter(|t| !t.is_empty());
        match self
            .rules
            .iter()
            .find(|rule| rule.matches(reference, organisation_type))
        {
            Some(rule) => Derivation {
                group: rule.group,
                rule: rule.description.clone(),
            },
            None => Derivation {
                group: PartnerGroup::Other,
                rule: "no partner-group rule matched → other".to_owned(),
            },
        }
    }
}

impl PartnerGroupRule {
    fn matches(&self, reference: Option<&str>, organisation_type: Option<&str>) -> bool {
        let identifier_matches = match (&self.identifier, reference) {
            (IdentifierPattern::Any, _) => true,
            (IdentifierPattern::Exact(exact), Some(reference)) => {
                reference.eq_ignore_ascii_case(exact)
            }
            (IdentifierPattern::Prefix(prefix), Some(reference)) => {
                starts_with_ignore_case(reference, prefix)
            }
            (_, None) => false,
        };
        let type_matches = self.organisation_types.is_empty()
            || organisation_type
                .is_some_and(|t| self.organisation_types.iter().any(|code| code == t));
        identifier_matches && type_matches
    }
}

fn describe(
    line: usize,
    identifier: &IdentifierPattern,
    types: &[String],
    group: PartnerGroup,
    note: &str,
) -> String {
    let mut conditions = Vec::new();
    match identifier {
        IdentifierPattern::Any => {}
        IdentifierPattern::Exact(exact) => conditions.push(format!("identifier {exact}")),
        IdentifierPattern::Prefix(prefix) => conditions.push(format!("identifier {prefix}*")),
    }
    match types {
        [] => {}
        [one] => conditions.push(format!("type {one}")),
        several => conditions.push(format!("type {}", several.join(" or "))),
    }
    let condition = if conditions.is_empty() {
        "any partner".to_owned()
    } else {
        conditions.join(" and ")
    };
    if note.is_empty() {
        format!("{condition} → {group} (partner-group rules, line {line})")
    } else {
        format!("{condition} → {group} (partner-group rules, line {line}: {note})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PartnerGroup::*;

    /// Reporting organisations of the real IATI sample (shared/data/iati/activities, D-Portal's 2021
    /// extract), with the identifier and type they publish under, and the group we expect.
    const REAL_REPORTING_ORGS: &[(&str, &str, PartnerGroup)] = &[
        ("GB-GOV-1", "10", Government),         // FCDO
        ("US-GOV-1", "10", Government),         // USAID
        ("SE-0", "10", Government),             // Sida
        ("DE-1", "10", Government),             // BMZ
        ("FR-3", "10", Government),             // AFD
        ("XM-DAC-7", "10", Government),         // Netherlands MFA, by DAC donor code
        ("XM-DAC-21-1", "10", Government),      // Irish Aid: not the IFRC's 21018
        ("XM-DAC-301-2", "15", Government),     // IDRC Canada
        ("XI-IATI-IKI", "10", Government),      // German climate initiative
        ("XM-OCHAS-HPC6770", "10", Government), // KSrelief: XM-OCHAS is not XM-OCHA-
        ("NL-KVK-27378529", "10", Government),  // Netherlands Enterprise Agency
        ("XI-IATI-EC_ECHO", "15", EuropeanUnion),
        ("XI-IATI-EC_INTPA", "15", EuropeanUnion),
        ("XI-IATI-EC_NEAR", "15", EuropeanUnion),
        ("XI-IATI-EC_FPI", "15", EuropeanUnion),
        ("XM-DAC-41114", "40", UnitedNations), // UNDP
        ("XM-DAC-41301", "40", UnitedNations), // FAO
        ("XM-DAC-41122", "40", UnitedNations), // UNICEF
        ("XM-DAC-928", "40", UnitedNations),   // WHO
        ("XM-DAC-47066", "40", UnitedNations), // IOM
        ("XM-OCHA-CBPF", "22", UnitedNations), // OCHA pooled funds, published as type 22
        ("XM-OCHA-CERF", "40", UnitedNations),
        ("XI-IATI-UNPF", "40", UnitedNations), // UN pooled funds
        ("41AAA", "40", UnitedNations),        // UNOPS, bare channel code
        ("44000", "40", Ifi),                  // World Bank, bare channel code
        ("46002", "40", Ifi),                  // AfDB, bare channel code
        ("XM-DAC-46004", "40", Ifi),           // AsDB
        ("XM-DAC-903", "40", Ifi),             // IFC
        ("XM-DAC-918-3", "15", Ifi),           // EIB
        ("XI-IATI-IADB", "40", Ifi),
        ("XI-IATI-EBRD", "40", Ifi),
        ("XI-IATI-WBTF", "40", Ifi),
        ("XI-IATI-MIF", "40", Ifi),
        ("XI-IATI-OFID", "40", Ifi),
        ("XI-IATI-CWSEC", "40", Intergovernmental), // Commonwealth Secretariat
        ("XM-DAC-30010", "40", Intergovernmental),  // Unitaid
        ("XM-DAC-21018", "90", CivilSociety),       // IFRC
        ("GB-CHC-285776", "21", CivilSociety),      // CAFOD
        ("NL-KVK-27108436", "21", CivilSociety),    // Oxfam Novib
        ("KE-RCO-CPR/2009/5689", "23", CivilSociety), // TradeMark East Africa
        ("IE-CHY-20009090", "22", CivilSociety),
        ("NL-KVK-27284008", "22", SocialPartner), // DECP, employers
        ("CA-CRA_ACR-817387277", "60", Foundation),
        ("AR-CENOC-16969-A", "60", Foundation),
    ];

    #[test]
    fn real_reporting_organisations_get_their_group() {
        let rules = PartnerGroupRules::bundled();
        for &(reference, organisation_type, expected) in REAL_REPORTING_ORGS {
            let derivation = rules.derive(Some(reference), Some(organisation_type));
            assert_eq!(
                derivation.group, expected,
                "{reference} (type {organisation_type}) by {}",
                derivation.rule
            );
        }
    }

    #[test]
    fn participating_organisations_and_edge_cases() {
        let rules = PartnerGroupRules::bundled();
        let cases: &[(Option<&str>, Option<&str>, PartnerGroup)] = &[
            // The ILO itself, named as participating organisation without a type.
            (Some("XM-DAC-41302"), None, UnitedNations),
            (Some("xm-dac-41114"), Some("40"), UnitedNations),
            (Some(" XM-DAC-41114 "), Some(" 40 "), UnitedNations),
            // Bare numbers are only trusted with type 40: "46004" is a ministry in one UNDP file.
            (Some("46004"), Some("10"), Government),
            (Some("46004"), Some("40"), Ifi),
            (Some("12872"), Some("70"), PrivateSector), // a UNDP donor number for a company foundation
            (Some("47045"), Some("40"), Intergovernmental),
            (Some("XM-DAC-47045"), None, Intergovernmental),
            (Some("XM-DAC-918"), None, EuropeanUnion),
            (Some("NL-KvK-41177601"), Some("21"), SocialPartner),
            (None, Some("11"), Government),
            (None, Some("71"), PrivateSector),
            (None, Some("80"), Academic),
            (None, Some("24"), CivilSociety),
            (None, Some("90"), Other),
            (None, None, Other),
            (Some(""), Some(""), Other),
            (Some("GB-COH-12345"), Some("99"), Other),
        ];
        for &(reference, organisation_type, expected) in cases {
            let derivation = rules.derive(reference, organisation_type);
            assert_eq!(
                derivation.group, expected,
                "{reference:?} {organisation_type:?} by {}",
                derivation.rule
            );
        }
    }

    #[test]
    fn the_rule_is_named_for_the_method_note() {
        let rules = PartnerGroupRules::bundled();
        let undp = rules.derive(Some("XM-DAC-41114"), Some("40"));
        assert!(
            undp.rule
                .starts_with("identifier XM-DAC-41* → united_nations (partner-group rules, line "),
            "{}",
            undp.rule
        );
        let fcdo = rules.derive(Some("GB-GOV-1"), Some("10"));
        assert!(
            fcdo.rule.starts_with("type 10 or 11 or 15 → government"),
            "{}",
            fcdo.rule
        );
    }

    #[test]
    fn first_match_wins_and_a_file_without_catch_all_gives_other() {
        let rules = PartnerGroupRules::from_str_data(
            "identifier,organisation_type,group,note\n\
             XX-*,40,ifi,\n\
             XX-1,,government,never reached for XX-1 with type 40\n",
        )
        .unwrap();
        assert_eq!(rules.derive(Some("XX-1"), Some("40")).group, Ifi);
        assert_eq!(rules.derive(Some("XX-1"), Some("10")).group, Government);
        let none = rules.derive(Some("YY-1"), Some("10"));
        assert_eq!(none.group, Other);
        assert_eq!(none.rule, "no partner-group rule matched → other");
        assert_eq!(
            rules.derive(Some("XX-1"), Some("40")).rule,
            "identifier XX-* and type 40 → ifi (partner-group rules, line 2)"
        );
    }

    #[test]
    fn bad_files_say_which_line_and_what() {
        let header = "identifier,organisation_type,group,note\n";
        let cases = [
            (
                "XM-DAC-41*,,united_nation,\n",
                "partner-group-rules.csv, line 2: 'united_nation' is not a partner group: expected one of \
                 government, european_union, intergovernmental, united_nations, ifi, private_sector, \
                 foundation, social_partner, civil_society, academic, other",
            ),
            (
                "# comment\nXM-*-41,,ifi,\n",
                "partner-group-rules.csv, line 3: 'XM-*-41': a * may only end an identifier prefix",
            ),
            (
                ",10;11,government,\n",
                "partner-group-rules.csv, line 2: '10;11' is not an OrganisationType code (codes are \
                 numbers such as 10 or 40; separate several with spaces)",
            ),
            (
                ",10,government\n",
                "partner-group-rules.csv, line 2: expected 4 fields (identifier,organisation_type,group,note), found 3",
            ),
            ("", "partner-group-rules.csv: there are no rules"),
        ];
        for (body, expected) in cases {
            let err = PartnerGroupRules::from_str_data(&format!("{header}{body}")).unwrap_err();
            assert_eq!(err.to_string(), expected);
        }
    }

    #[test]
    fn codes_and_labels() {
        assert_eq!(PartnerGroup::ALL.len(), 11);
        for group in PartnerGroup::ALL {
            assert_eq!(PartnerGroup::from_code(group.code()), Some(*group));
            for lang in ["en", "fr", "es"] {
                assert!(!group.label(lang).is_empty());
            }
        }
        assert_eq!(PartnerGroup::UnitedNations.label("fr"), "Nations Unies");
        assert_eq!(
            PartnerGroup::Ifi.label("es"),
            "Institución financiera internacional"
        );
        assert_eq!("social_partner".parse::<PartnerGroup>(), Ok(SocialPartner));
        assert_eq!(PartnerGroup::from_code("Government"), None);
    }
}
