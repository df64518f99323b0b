//! Reporting periods: a calendar year or a biennium. The organisation reports by biennium (2020-21, 2022-23,
//! 2024-25: the first year is even), and which years pair up is a setting, [`PeriodRule`], because another
//! organisation's budget cycle may start on odd years.

use std::fmt;
use std::str::FromStr;

use crate::value::parse_iso_date;

/// A reporting period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    /// One calendar year.
    Year(i32),
    /// Two calendar years, named by the first: `Biennium(2022)` is 2022-23.
    Biennium(i32),
}

/// Why a period or a date was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error(
        "'{text}' is not a period: expected a year (2022) or a biennium (2022-23 or 2022-2023)"
    )]
    Malformed { text: String },
    #[error("'{text}' is not a biennium: the second year must follow the first")]
    NotConsecutive { text: String },
    #[error("{period} is not a biennium of this organisation: bienniums start on {parity} years")]
    Misaligned {
        period: Period,
        parity: &'static str,
    },
    #[error(transparent)]
    Date(#[from] crate::value::ValueError),
}

/// Which years pair up into bienniums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PeriodRule {
    /// True (the default) for 2020-21, 2022-23, 2024-25; false for 2021-22, 2023-24.
    pub biennium_starts_even: bool,
}

impl Default for PeriodRule {
    fn default() -> Self {
        PeriodRule {
            biennium_starts_even: true,
        }
    }
}

impl PeriodRule {
    /// The biennium a year falls in.
    pub fn biennium_of_year(&self, year: i32) -> Period {
        let starts_here = (year.rem_euclid(2) == 0) == self.biennium_starts_even;
        Period::Biennium(if starts_here { year } else { year - 1 })
    }

    /// The biennium a date ("YYYY-MM-DD", or an IATI date-time) falls in.
    pub fn biennium_of(&self, date: &str) -> Result<Period, PeriodError> {
        Ok(self.biennium_of_year(year_of(date)?))
    }

    /// Parse a period and check that a biennium is one of this rule's ("2021-22" is refused when bienniums
    /// start on even years).
    pub fn parse_period(&self, text: &str) -> Result<Period, PeriodError> {
        let period: Period = text.parse()?;
        match period {
            Period::Biennium(first) if self.biennium_of_year(first) != period => {
                Err(PeriodError::Misaligned {
                    period,
                    parity: if self.biennium_starts_even {
                        "even"
                    } else {
                        "odd"
                    },
                })
            }
            _ => Ok(period),
        }
    }
}

impl Period {
    /// The first calendar year of the period.
    pub fn first_year(self) -> i32 {
        match self {
            Period::Year(year) | Period::Biennium(year) => year,
        }
    }

    /// The last calendar year of the period.
    pub fn last_year(self) -> i32 {
        match self {
            Period::Year(year) => year,
            Period::Biennium(year) => year + 1,
        }
    }

    /// "2022-01-01".
    pub fn first_day(self) -> String {
        format!("{:04}-01-01", self.first_year())
    }

    /// "2023-12-31".
    pub fn last_day(self) -> String {
        format!("{:04}-12-31", self.last_year())
    }

    /// Whether the period holds this year.
    pub fn contains_year(self, year: i32) -> bool {
        (self.first_year()..=self.last_year()).contains(&year)
    }

    /// Whether the period holds this date ("YYYY-MM-DD", or an IATI date-time); a text that is not a date
    /// is in no period.
    pub fn contains(self, date: &str) -> bool {
        year_of(date).is_ok_and(|year| self.contains_year(year))
    }
}

/// The year of a date, after checking that it is one.
fn year_of(date: &str) -> Result<i32, PeriodError> {
    let date = parse_iso_date(date)?;
    // parse_iso_date gives "YYYY-MM-DD" with a four-digit year.
    Ok(date[..4]
        .parse()
        .expect("a checked date starts with four digits"))
}

impl FromStr for Period {
    type Err = PeriodError;

    /// "2022" is a year; "2022-23" and "2022-2023" are the biennium 2022-23.
    fn from_str(text: &str) -> Result<Period, PeriodError> {
        let trimmed = text.trim();
        let malformed = || PeriodError::Malformed {
            text: text.to_owned(),
        };
        let four_digits = |s: &str| -> Option<i32> {
            (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        };
        match trimmed.split_once('-') {
            None => four_digits(trimmed).map(Period::Year).ok_or_else(malformed),
            Some((first, second)) => {
                let first = four_digits(first).ok_or_else(malformed)?;
                let follows = match second.len() {
                    2 if second.bytes().all(|b| b.is_ascii_digit()) => {
                        second.parse::<i32>().ok() == Some((first + 1) % 100)
                    }
                    4 => four_digits(second).ok_or_else(malformed)? == first + 1,
                    _ => return Err(malformed()),
                };
                if follows {
                    Ok(Period::Biennium(first))
                } else {
                    Err(PeriodError::NotConsecutive {
                        text: text.to_owned(),
                    })
                }
            }
        }
    }
}

impl fmt::Display for Period {
    /// "2022" or "2022-23".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Year(year) => write!(f, "{year:04}"),
            Period::Biennium(year) => write!(f, "{year:04}-{:02}", (year + 1).rem_euclid(100)),
        }
    }
}

impl serde::Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use Period::*;

    #[test]
    fn periods_parse_and_display() {
        let cases = [
            ("2022", Year(2022), "2022"),
            (" 2022 ", Year(2022), "2022"),
            ("2022-23", Biennium(2022), "2022-23"),
            ("2022-2023", Biennium(2022), "2022-23"),
            ("1999-00", Biennium(1999), "1999-00"),
            ("1999-2000", Biennium(1999), "1999-00"),
        ];
        for (text, period, shown) in cases {
            assert_eq!(text.parse::<Period>().unwrap(), period, "{text}");
            assert_eq!(period.to_string(), shown);
        }
        let refused = [
            ("22", "'22' is not a period: expected a year (2022) or a biennium (2022-23 or 2022-2023)"),
            ("2022-3", "'2022-3' is not a period: expected a year (2022) or a biennium (2022-23 or 2022-2023)"),
            ("2022/23", "'2022/23' is not a period: expected a year (2022) or a biennium (2022-23 or 2022-2023)"),
            ("", "'' is not a period: expected a year (2022) or a biennium (2022-23 or 2022-2023)"),
            ("2022-24", "'2022-24' is not a biennium: the second year must follow the first"),
            ("2022-2022", "'2022-2022' is not a biennium: the second year must follow the first"),
        ];
        for (text, message) in refused {
            assert_eq!(text.parse::<Period>().unwrap_err().to_string(), message);
        }
    }

    #[test]
    fn biennium_boundaries_under_the_default_rule() {
        let rule = PeriodRule::default();
        let cases = [
            ("2021-12-31", Biennium(2020)),
            ("2022-01-01", Biennium(2022)),
            ("2023-12-31", Biennium(2022)),
            ("2024-01-01", Biennium(2024)),
            ("2023-06-30T23:59:59Z", Biennium(2022)),
        ];
        for (date, biennium) in cases {
            assert_eq!(rule.biennium_of(date).unwrap(), biennium, "{date}");
        }
        assert_eq!(
            rule.biennium_of("2022-02-30").unwrap_err().to_string(),
            "'2022-02-30' is not a date: February 2022 has 28 days"
        );
        let biennium = Biennium(2022);
        assert!(!biennium.contains("2021-12-31"));
        assert!(biennium.contains("2022-01-01"));
        assert!(biennium.contains("2023-12-31"));
        assert!(!biennium.contains("2024-01-01"));
        assert!(!biennium.contains("not a date"));
        assert_eq!(biennium.first_day(), "2022-01-01");
        assert_eq!(biennium.last_day(), "2023-12-31");
        assert_eq!(Year(2022).last_day(), "2022-12-31");
        assert!(Year(2022).contains("2022-12-31"));
        assert!(!Year(2022).contains("2023-01-01"));
    }

    #[test]
    fn an_odd_start_rule_pairs_the_years_the_other_way() {
        let rule = PeriodRule {
            biennium_starts_even: false,
        };
        assert_eq!(rule.biennium_of("2021-12-31").unwrap(), Biennium(2021));
        assert_eq!(rule.biennium_of("2022-01-01").unwrap(), Biennium(2021));
        assert_eq!(rule.biennium_of("2022-12-31").unwrap(), Biennium(2021));
        assert_eq!(rule.biennium_of("2023-01-01").unwrap(), Biennium(2023));
        assert_eq!(rule.parse_period("2021-22").unwrap(), Biennium(2021));
        assert_eq!(
            rule.parse_period("2022-23").unwrap_err().to_string(),
            "2022-23 is not a biennium of this organisation: bienniums start on odd years"
        );
        assert_eq!(
            PeriodRule::default()
                .parse_period("2021-22")
                .unwrap_err()
                .to_string(),
            "2021-22 is not a biennium of this organisation: bienniums start on even years"
        );
        assert_eq!(
            PeriodRule::default().parse_period("2021").unwrap(),
            Year(2021)
        );
    }

    proptest! {
        #[test]
        fn every_year_is_in_exactly_its_biennium(year in 1000i32..=9998, even in any::<bool>()) {
            let rule = PeriodRule { biennium_starts_even: even };
            let biennium = rule.biennium_of_year(year);
            prop_assert!(biennium.contains_year(year));
            prop_assert_eq!(rule.biennium_of_year(biennium.last_year()), biennium);
            prop_assert_eq!(biennium.to_string().parse::<Period>().unwrap(), biennium);
            prop_assert_eq!(rule.parse_period(&biennium.to_string()).unwrap(), biennium);
        }

        #[test]
        fn parsing_never_panics(text in "\\PC{0,12}") {
            let _ = text.parse::<Period>();
            let _ = PeriodRule::default().biennium_of(&text);
        }
    }
}
