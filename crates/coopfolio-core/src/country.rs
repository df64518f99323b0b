//! Countries and territories: ISO 3166-1 codes, names in English, French and Spanish, the ILO region each
//! belongs to, and the Global South flag the South-South marker uses. The table is
//! `data/reference/countries.csv`, written from the ISO lists in `data/reference/countries/` with the region
//! and the flag set by hand (its header comment says how).

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::reference::{coded_enum, read_csv, Names, ReferenceError};

coded_enum! {
    /// The ILO's five regions.
    pub enum IloRegion ("an ILO region") {
        Africa = "africa", ["Africa", "Afrique", "África"],
        Americas = "americas", ["Americas", "Amériques", "Américas"],
        ArabStates = "arab_states", ["Arab States", "États arabes", "Estados Árabes"],
        AsiaPacific = "asia_pacific", ["Asia and the Pacific", "Asie et Pacifique", "Asia y el Pacífico"],
        EuropeCentralAsia = "europe_central_asia", [
            "Europe and Central Asia",
            "Europe et Asie centrale",
            "Europa y Asia Central"
        ],
    }
}

/// One country or territory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Country {
    /// ISO 3166-1 alpha-2, upper case: "FR".
    pub alpha2: String,
    /// ISO 3166-1 alpha-3: "FRA".
    pub alpha3: String,
    /// ISO 3166-1 numeric, three digits with leading zeros: "250".
    pub numeric: String,
    pub names: Names,
    pub region: IloRegion,
    /// A member of the Group of 77 and China.
    pub global_south: bool,
}

/// The country table. Build with [`Countries::from_str_data`] or use [`Countries::bundled`].
#[derive(Debug, Clone)]
pub struct Countries {
    countries: Vec<Country>,
    /// Upper-case alpha-2 and alpha-3 codes -> position in `countries`.
    by_code: HashMap<String, usize>,
}

const FILE: &str = "countries.csv";
const COLUMNS: [&str; 8] = [
    "alpha2",
    "alpha3",
    "numeric",
    "name_en",
    "name_fr",
    "name_es",
    "ilo_region",
    "global_south",
];

static BUNDLED: LazyLock<Countries> = LazyLock::new(|| {
    // Fixed at build time and parsed by a test: a failure here is a build defect.
    Countries::from_str_data(include_str!("../../../data/reference/countries.csv"))
        .expect("the bundled country table is valid")
});

impl Countries {
    /// The table bundled with the program, parsed on first use.
    pub fn bundled() -> &'static Countries {
        &BUNDLED
    }

    /// Parse a country table (the format is described at the top of the bundled file).
    pub fn from_str_data(text: &str) -> Result<Countries, ReferenceError> {
        let records = read_csv(FILE, text, &COLUMNS)?;
        let mut countries = Vec::with_capacity(records.len());
        let mut by_code = HashMap::with_capacity(records.len() * 2);
        for record in records {
            let [alpha2, alpha3, numeric, en, fr, es, region, global_south] =
                <[String; 8]>::try_from(record.fields.clone())
                    .expect("read_csv gives as many fields as columns");
            let letters = |code: &str, n: usize| {
                code.len() == n && code.bytes().all(|b| b.is_ascii_uppercase())
            };
            if !letters(&alpha2, 2) {
                return Err(record.error(
                    FILE,
                    format!("'{alpha2}' is not an alpha-2 code (two upper-case letters)"),
                ));
            }
            if !letters(&alpha3, 3) {
                return Err(record.error(
                    FILE,
                    format!("'{alpha3}' is not an alpha-3 code (three upper-case letters)"),
                ));
            }
            if numeric.len() != 3 || !numeric.bytes().all(|b| b.is_ascii_digit()) {
                return Err(record.error(
                    FILE,
                    format!("'{numeric}' is not a numeric code (three digits, such as 004)"),
                ));
            }
            if en.is_empty() || fr.is_empty() || es.is_empty() {
                return Err(record.error(
                    FILE,
                    format!("{alpha2} needs a name in English, French and Spanish"),
                ));
            }
            let region: IloRegion = region.parse().map_err(|e| record.error(FILE, e))?;
            let global_south = match global_south.as_str() {
                "yes" => true,
                "no" => false,
                other => {
                    return Err(record.error(
                        FILE,
                        format!("global_south must be yes or no, found '{other}'"),
                    ))
                }
            };
            for code in [&alpha2, &alpha3] {
                if by_code.insert(code.clone(), countries.len()).is_some() {
                    return Err(record.error(FILE, format!("{code} is listed twice")));
                }
            }
            countries.push(Country {
                alpha2,
                alpha3,
                numeric,
                names: Names { en, fr, es },
                region,
                global_south,
            });
        }
        Ok(Countries { countries, by_code })
    }

    /// The country with this alpha-2 or alpha-3 code, in any case ("FR", "fr", "FRA").
    pub fn get(&self, code: &str) -> Option<&Country> {
        let code = code.trim();
        let index = match self.by_code.get(code) {
            Some(index) => Some(index),
            // Most codes arrive upper case; only the others pay for the conversion.
            None if code.bytes().any(|b| b.is_ascii_lowercase()) => {
                self.by_code.get(&code.to_ascii_uppercase())
            }
            None => None,
        };
        index.map(|&i| &self.countries[i])
    }

    /// Every country and territory, in the order of the file.
    pub fn all(&self) -> &[Country] {
        &self.countries
    }

    pub fn len(&self) -> usize {
        self.countries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.countries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use IloRegion::*;

    /// The alpha-2, alpha-3 and numeric codes of `codes.json` (`[["AF", "AFG", "004", "ISO 3166-2:AF"], ...]`),
    /// read by hand: the core crate has no JSON parser, and the file is one array per line.
    fn iso_codes() -> Vec<[String; 3]> {
        include_str!("../../../data/reference/countries/codes.json")
            .lines()
            .filter(|line| line.trim_start().starts_with("[\""))
            .map(|line| {
                let quoted: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
                [quoted[0], quoted[1], quoted[2]].map(str::to_owned)
            })
            .collect()
    }

    /// The first name of each code in one of the name files (`"AF": "Afghanistan"` or
    /// `"CN": ["People's Republic of China", "China"]`).
    fn iso_names(json: &str) -> HashMap<String, String> {
        json.lines()
            .filter_map(|line| {
                let (code, rest) = line.trim().strip_prefix('"')?.split_once("\": ")?;
                let first = rest.trim_start_matches('[').strip_prefix('"')?;
                let name = first.split('"').next()?;
                (code.len() == 2).then(|| (code.to_owned(), name.to_owned()))
            })
            .collect()
    }

    #[test]
    fn every_iso_country_has_its_codes_a_region_and_three_names() {
        let countries = Countries::bundled();
        let codes = iso_codes();
        assert_eq!(codes.len(), 250);
        let en = iso_names(include_str!("../../../data/reference/countries/en.json"));
        let fr = iso_names(include_str!("../../../data/reference/countries/fr.json"));
        let es = iso_names(include_str!("../../../data/reference/countries/es.json"));
        for [alpha2, alpha3, numeric] in &codes {
            let country = countries
                .get(alpha2)
                .unwrap_or_else(|| panic!("{alpha2} is missing"));
            assert_eq!(&country.alpha3, alpha3);
            assert_eq!(&country.numeric, numeric);
            assert_eq!(countries.get(alpha3), Some(country));
            assert_eq!(&country.names.en, &en[alpha2], "{alpha2}");
            assert_eq!(&country.names.fr, &fr[alpha2], "{alpha2}");
            assert_eq!(&country.names.es, &es[alpha2], "{alpha2}");
        }
        assert_eq!(
            countries.len(),
            codes.len(),
            "the table has codes ISO does not"
        );
    }

    #[test]
    fn regions_follow_the_ilo_grouping() {
        let countries = Countries::bundled();
        let cases = [
            // The Arab States are exactly these twelve.
            ("BH", ArabStates),
            ("IQ", ArabStates),
            ("JO", ArabStates),
            ("KW", ArabStates),
            ("LB", ArabStates),
            ("OM", ArabStates),
            ("QA", ArabStates),
            ("SA", ArabStates),
            ("SY", ArabStates),
            ("AE", ArabStates),
            ("YE", ArabStates),
            ("PS", ArabStates),
            // North Africa is in Africa.
            ("EG", Africa),
            ("MA", Africa),
            ("DZ", Africa),
            ("TN", Africa),
            ("LY", Africa),
            ("SD", Africa),
            ("MR", Africa),
            ("ZA", Africa),
            ("IR", AsiaPacific),
            ("AF", AsiaPacific),
            ("PK", AsiaPacific),
            ("CN", AsiaPacific),
            ("FJ", AsiaPacific),
            ("NZ", AsiaPacific),
            ("KZ", EuropeCentralAsia),
            ("UZ", EuropeCentralAsia),
            ("TJ", EuropeCentralAsia),
            ("TR", EuropeCentralAsia),
            ("IL", EuropeCentralAsia),
            ("CY", EuropeCentralAsia),
            ("RU", EuropeCentralAsia),
            ("FR", EuropeCentralAsia),
            ("US", Americas),
            ("CA", Americas),
            ("BR", Americas),
            ("GL", Americas),
            ("PR", Americas),
            ("RE", Africa),
            ("NC", AsiaPacific),
        ];
        for (code, region) in cases {
            assert_eq!(countries.get(code).unwrap().region, region, "{code}");
        }
        let arab_states = countries
            .all()
            .iter()
            .filter(|c| c.region == ArabStates)
            .count();
        assert_eq!(arab_states, 12);
    }

    #[test]
    fn global_south_is_the_g77_and_china() {
        let countries = Countries::bundled();
        for code in [
            "CN", "IN", "BR", "ZA", "PS", "SA", "CL", "CO", "BA", "AZ", "TJ", "SG",
        ] {
            assert!(countries.get(code).unwrap().global_south, "{code}");
        }
        for code in [
            "FR", "US", "JP", "KR", "MX", "TR", "RU", "PW", "TV", "KG", "PR", "GL",
        ] {
            assert!(!countries.get(code).unwrap().global_south, "{code}");
        }
        let members = countries.all().iter().filter(|c| c.global_south).count();
        assert_eq!(members, 135);
    }

    #[test]
    fn lookups_ignore_case_and_labels_are_translated() {
        let countries = Countries::bundled();
        let france = countries.get("fr").unwrap();
        assert_eq!(france.alpha2, "FR");
        assert_eq!(france.names.get("es"), "Francia");
        assert_eq!(countries.get("fra"), Some(france));
        assert_eq!(countries.get(" FR "), Some(france));
        assert_eq!(countries.get("XX"), None);
        assert_eq!(countries.get(""), None);
        assert_eq!(countries.get("é"), None);
        assert_eq!(IloRegion::ArabStates.label("fr"), "États arabes");
        assert_eq!(IloRegion::AsiaPacific.label("es"), "Asia y el Pacífico");
    }

    #[test]
    fn bad_rows_say_which_line_and_what() {
        let header = "alpha2,alpha3,numeric,name_en,name_fr,name_es,ilo_region,global_south\n";
        let cases = [
            (
                "fr,FRA,250,France,France,Francia,europe_central_asia,no\n",
                "countries.csv, line 2: 'fr' is not an alpha-2 code (two upper-case letters)",
            ),
            (
                "FR,FRA,25,France,France,Francia,europe_central_asia,no\n",
                "countries.csv, line 2: '25' is not a numeric code (three digits, such as 004)",
            ),
            (
                "FR,FRA,250,France,France,Francia,europe,no\n",
                "countries.csv, line 2: 'europe' is not an ILO region: expected one of africa, americas, \
                 arab_states, asia_pacific, europe_central_asia",
            ),
            (
                "FR,FRA,250,France,France,Francia,europe_central_asia,false\n",
                "countries.csv, line 2: global_south must be yes or no, found 'false'",
            ),
            (
                "FR,FRA,250,France,,Francia,europe_central_asia,no\n",
                "countries.csv, line 2: FR needs a name in English, French and Spanish",
            ),
            (
                "FR,FRA,250,France,France,Francia,europe_central_asia,no\n\
                 FR,FXX,249,France,France,Francia,europe_central_asia,no\n",
                "countries.csv, line 3: FR is listed twice",
            ),
        ];
        for (body, expected) in cases {
            let err = Countries::from_str_data(&format!("{header}{body}")).unwrap_err();
            assert_eq!(err.to_string(), expected);
        }
    }
}
