//! Policy areas: the nine themes the organisation reports its work under (employment, social protection,
//! child and forced labour...), and the map, kept in `data/reference/policy-areas.csv`, from DAC sector codes
//! to them. A project's areas can also be set by hand; the map gives the default for imported projects.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::reference::{coded_enum, read_csv, ReferenceError};

coded_enum! {
    /// A policy area.
    pub enum PolicyArea ("a policy area") {
        Employment = "employment", ["Employment", "Emploi", "Empleo"],
        SocialProtection = "social_protection", [
            "Social protection",
            "Protection sociale",
            "Protección social"
        ],
        ChildForcedLabour = "child_forced_labour", [
            "Child and forced labour",
            "Travail des enfants et travail forcé",
            "Trabajo infantil y trabajo forzoso"
        ],
        Migration = "migration", ["Migration", "Migrations", "Migración"],
        SocialFinance = "social_finance", ["Social finance", "Finance sociale", "Finanzas sociales"],
        Skills = "skills", ["Skills", "Compétences", "Competencias"],
        OccupationalSafetyHealth = "occupational_safety_health", [
            "Occupational safety and health",
            "Sécurité et santé au travail",
            "Seguridad y salud en el trabajo"
        ],
        JustTransition = "just_transition", ["Just transition", "Transition juste", "Transición justa"],
        GenderNonDiscrimination = "gender_non_discrimination", [
            "Gender equality and non-discrimination",
            "Égalité de genre et non-discrimination",
            "Igualdad de género y no discriminación"
        ],
    }
}

/// The map from DAC sectors to policy areas. Build with [`PolicyAreaMap::from_str_data`] or use
/// [`PolicyAreaMap::bundled`].
#[derive(Debug, Clone)]
pub struct PolicyAreaMap {
    /// 5-digit purpose codes and 3-digit categories -> areas.
    by_sector: HashMap<String, Vec<PolicyArea>>,
}

const FILE: &str = "policy-areas.csv";
const COLUMNS: [&str; 3] = ["sector", "policy_areas", "note"];

static BUNDLED: LazyLock<PolicyAreaMap> = LazyLock::new(|| {
    // Fixed at build time and parsed by a test: a failure here is a build defect.
    PolicyAreaMap::from_str_data(include_str!("../../../data/reference/policy-areas.csv"))
        .expect("the bundled policy-area map is valid")
});

impl PolicyAreaMap {
    /// The map bundled with the program, parsed on first use.
    pub fn bundled() -> &'static PolicyAreaMap {
        &BUNDLED
    }

    /// Parse a policy-area map (the format is described at the top of the bundled file).
    pub fn from_str_data(text: &str) -> Result<PolicyAreaMap, ReferenceError> {
        let records = read_csv(FILE, text, &COLUMNS)?;
        let mut by_sector: HashMap<String, Vec<PolicyArea>> = HashMap::new();
        for record in records {
            let [sector, areas, _note] = <[String; 3]>::try_from(record.fields.clone())
                .expect("read_csv gives as many fields as columns");
            if !matches!(sector.len(), 3 | 5) || !sector.bytes().all(|b| b.is_ascii_digit()) {
                return Err(record.error(
                    FILE,
                    format!("'{sector}' is not a DAC sector: expected a 5-digit purpose code or a 3-digit category"),
                ));
            }
            let mut parsed = Vec::new();
            for code in areas.split_whitespace() {
                let area: PolicyArea = code.parse().map_err(|e| record.error(FILE, e))?;
                if !parsed.contains(&area) {
                    parsed.push(area);
                }
            }
            if by_sector.insert(sector.clone(), parsed).is_some() {
                return Err(record.error(FILE, format!("sector {sector} is listed twice")));
            }
        }
        Ok(PolicyAreaMap { by_sector })
    }

    /// The policy areas of a DAC sector: its own line if it has one, else its 3-digit category's, else
    /// none. A 3-digit code gives its category's areas.
    pub fn areas_for_sector(&self, code: &str) -> &[PolicyArea] {
        let code = code.trim();
        if let Some(areas) = self.by_sector.get(code) {
            return areas;
        }
        match code.get(..3) {
            Some(category) if code.len() == 5 => self
                .by_sector
                .get(category)
                .map(Vec::as_slice)
                .unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Every sector code or category the map names, for listing the map.
    pub fn sectors(&self) -> impl Iterator<Item = (&str, &[PolicyArea])> {
        self.by_sector
            .iter()
            .map(|(sector, areas)| (sector.as_str(), areas.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PolicyArea::*;

    #[test]
    fn sectors_map_to_policy_areas() {
        let map = PolicyAreaMap::bundled();
        let cases: &[(&str, &[PolicyArea])] = &[
            ("16020", &[Employment]),
            ("16010", &[SocialProtection]),
            ("16013", &[SocialProtection]),
            ("16070", &[ChildForcedLabour, OccupationalSafetyHealth]),
            ("11330", &[Skills]),
            ("15170", &[GenderNonDiscrimination]),
            ("15190", &[Migration]),
            ("24030", &[SocialFinance]),
            ("24040", &[SocialFinance]),
            ("24050", &[Migration, SocialFinance]),
            // By category: every 231xx and 232xx code.
            ("23110", &[JustTransition]),
            ("23183", &[JustTransition]),
            ("23240", &[JustTransition]),
            ("232", &[JustTransition]),
            ("41010", &[JustTransition]),
            // Not mapped.
            ("23310", &[]),
            ("23630", &[]),
            ("16080", &[]),
            ("12110", &[]),
            ("24010", &[]),
            ("", &[]),
            ("2", &[]),
            ("2324", &[]),
            ("23é", &[]),
            (" 16020 ", &[Employment]),
        ];
        for &(sector, areas) in cases {
            assert_eq!(map.areas_for_sector(sector), areas, "{sector:?}");
        }
        // Every area has at least one sector, so none is empty by construction.
        for area in PolicyArea::ALL {
            assert!(
                map.sectors().any(|(_, areas)| areas.contains(area)),
                "no sector maps to {area}"
            );
        }
    }

    #[test]
    fn every_bundled_sector_is_in_the_dac_lists() {
        let codelists = crate::codelists::Codelists::bundled();
        for (sector, _) in PolicyAreaMap::bundled().sectors() {
            let list = if sector.len() == 3 {
                "SectorCategory"
            } else {
                "Sector"
            };
            assert_eq!(
                codelists.contains(list, sector),
                Some(true),
                "{sector} is not in {list}"
            );
        }
    }

    #[test]
    fn a_purpose_code_line_overrides_its_category() {
        let map = PolicyAreaMap::from_str_data(
            "sector,policy_areas,note\n232,just_transition,\n23270,,biofuel plants left out\n",
        )
        .unwrap();
        assert_eq!(map.areas_for_sector("23240"), &[JustTransition]);
        assert_eq!(map.areas_for_sector("23270"), &[]);
    }

    #[test]
    fn bad_files_say_which_line_and_what() {
        let header = "sector,policy_areas,note\n";
        let cases = [
            (
                "1602,employment,\n",
                "policy-areas.csv, line 2: '1602' is not a DAC sector: expected a 5-digit purpose code or a 3-digit category",
            ),
            (
                "16020,employment jobs,\n",
                "policy-areas.csv, line 2: 'jobs' is not a policy area: expected one of employment, \
                 social_protection, child_forced_labour, migration, social_finance, skills, \
                 occupational_safety_health, just_transition, gender_non_discrimination",
            ),
            (
                "16020,employment,\n16020,skills,\n",
                "policy-areas.csv, line 3: sector 16020 is listed twice",
            ),
        ];
        for (body, expected) in cases {
            let err = PolicyAreaMap::from_str_data(&format!("{header}{body}")).unwrap_err();
            assert_eq!(err.to_string(), expected);
        }
    }

    #[test]
    fn nine_areas_with_labels() {
        assert_eq!(PolicyArea::ALL.len(), 9);
        assert_eq!(
            OccupationalSafetyHealth.label("fr"),
            "Sécurité et santé au travail"
        );
        assert_eq!(
            ChildForcedLabour.label("es"),
            "Trabajo infantil y trabajo forzoso"
        );
        assert_eq!(JustTransition.code(), "just_transition");
    }
}
