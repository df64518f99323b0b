//! IATI scalar values checked at the edge: amounts and percentages (exact decimals, never floats), dates and
//! currency codes. Each parser accepts what the IATI schema allows and, when it refuses, says what it found,
//! because the person reading the message is a publisher fixing their file.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

/// Why a value was refused. Messages quote the value (shortened when long) and say what is wrong.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ValueError {
    /// Nothing but whitespace where a value was required.
    #[error("the {what} is empty")]
    Empty { what: &'static str },
    /// Not an `xs:decimal`.
    #[error("'{text}' is not a number: {reason}")]
    NotANumber { text: String, reason: String },
    /// A well-formed number with more digits than an exact decimal holds.
    #[error(
        "'{text}' has more digits than can be held exactly \
         (at most 28 decimal places and about 28 significant digits)"
    )]
    TooManyDigits { text: String },
    /// A number outside 0..=100 given as a percentage.
    #[error("'{text}' is not a percentage: it must be between 0 and 100")]
    PercentageOutOfRange { text: String },
    /// Not a calendar date in the form YYYY-MM-DD.
    #[error("'{text}' is not a date: {reason}")]
    NotADate { text: String, reason: String },
    /// Not three letters.
    #[error("'{text}' is not a currency code: {reason}")]
    NotACurrencyCode { text: String, reason: String },
}

/// XML whitespace: what an XML parser leaves around a value when a file is pretty-printed.
fn trim_xml(text: &str) -> &str {
    text.trim_matches([' ', '\t', '\n', '\r'])
}

/// The value as quoted in a message: a whole document pasted into a field must not become the message.
fn quote(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

/// Parse an IATI `xs:decimal` amount exactly: optional surrounding whitespace, optional sign, digits,
/// optional '.' and digits (".5" and "5." accepted). No exponent, no thousands separators, no currency
/// symbols: those are errors that say what was found. Never a float.
///
/// The scale written is kept ("100.00" has scale 2) unless it is too large to hold, in which case trailing
/// zeros of the fraction are dropped, which does not change the value.
pub fn parse_amount(text: &str) -> Result<Decimal, ValueError> {
    parse_decimal(text, "amount")
}

/// Parse a percentage (the same grammar as an amount), 0..=100 inclusive.
pub fn parse_percentage(text: &str) -> Result<Decimal, ValueError> {
    let value = parse_decimal(text, "percentage")?;
    if value < Decimal::ZERO || value > Decimal::ONE_HUNDRED {
        return Err(ValueError::PercentageOutOfRange {
            text: quote(trim_xml(text)),
        });
    }
    Ok(value)
}

fn parse_decimal(text: &str, what: &'static str) -> Result<Decimal, ValueError> {
    let trimmed = trim_xml(text);
    if trimmed.is_empty() {
        return Err(ValueError::Empty { what });
    }
    let Some((negative, int_digits, frac_digits)) = split_decimal(trimmed) else {
        return Err(ValueError::NotANumber {
            text: quote(trimmed),
            reason: diagnose_number(trimmed),
        });
    };
    let too_many = || ValueError::TooManyDigits {
        text: quote(trimmed),
    };
    // Leading zeros add nothing; trailing zeros of the fraction are kept (they carry the scale) unless
    // they are what stops the number from fitting.
    let int_digits = int_digits.trim_start_matches('0');
    let exact = decimal_from_digits(negative, int_digits, frac_digits);
    exact
        .or_else(|| decimal_from_digits(negative, int_digits, frac_digits.trim_end_matches('0')))
        .ok_or_else(too_many)
}

/// `[+-]? digits? ('.' digits?)?` with at least one digit, split into (negative, integer, fraction).
fn split_decimal(text: &str) -> Option<(bool, &str, &str)> {
    let (negative, unsigned) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (int_digits, frac_digits) = match unsigned.split_once('.') {
        Some((i, f)) => (i, f),
        None => (unsigned, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let has_digit = !int_digits.is_empty() || !frac_digits.is_empty();
    (has_digit && all_digits(int_digits) && all_digits(frac_digits)).then_some((
        negative,
        int_digits,
        frac_digits,
    ))
}

/// The decimal `±int.frac`, or None when it does not fit in 96 bits with a scale of at most 28.
fn decimal_from_digits(negative: bool, int_digits: &str, frac_digits: &str) -> Option<Decimal> {
    let scale = u32::try_from(frac_digits.len()).ok()?;
    if scale > Decimal::MAX_SCALE {
        return None;
    }
    // 2^96 - 1, the largest mantissa a Decimal holds; checking as we go bounds the work on long inputs.
    const MAX_MANTISSA: u128 = (1 << 96) - 1;
    let mut mantissa: u128 = 0;
    for b in int_digits.bytes().chain(frac_digits.bytes()) {
        mantissa = mantissa * 10 + u128::from(b - b'0');
        if mantissa > MAX_MANTISSA {
            return None;
        }
    }
    let signed = i128::try_from(mantissa).ok()?;
    Decimal::try_from_i128_with_scale(if negative { -signed } else { signed }, scale).ok()
}

/// Why `text`, which is not an `xs:decimal`, was refused, in the publisher's terms.
fn diagnose_number(text: &str) -> String {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    if let Some(separator) = thousands_separator(unsigned) {
        let found = match separator {
            ',' => return "thousands separators are not allowed".to_owned(),
            ' ' => "spaces",
            '\'' => "apostrophes",
            '_' => "underscores",
            '\u{2009}' => "thin spaces",
            _ => "no-break spaces",
        };
        return format!("thousands separators are not allowed (found {found})");
    }
    if unsigned.contains(',') {
        return "a comma is not allowed: the decimal separator is '.' and there are no thousands \
                separators"
            .to_owned();
    }
    if is_exponent_form(unsigned) {
        return "exponents are not allowed: write the number out in full".to_owned();
    }
    let lower = unsigned.to_ascii_lowercase();
    if matches!(lower.as_str(), "nan" | "inf" | "infinity") {
        return "NaN and infinity are not allowed".to_owned();
    }
    if let Some(symbol) = text.chars().find(|&c| is_currency_symbol(c)) {
        return format!(
            "currency symbols are not allowed (found '{symbol}'); the currency is a separate attribute"
        );
    }
    if let Some(code) = three_letter_run(text) {
        return format!(
            "currency codes are not allowed (found '{code}'); the currency is a separate attribute"
        );
    }
    if text.contains('%') {
        return "a percent sign is not allowed: write the number alone".to_owned();
    }
    if let Some(c) = text.chars().find(|c| c.is_whitespace()) {
        return format!("spaces are not allowed inside a number (found {c:?})");
    }
    if unsigned.matches('.').count() > 1 {
        return "there is more than one decimal point".to_owned();
    }
    if unsigned.contains(['+', '-']) {
        return "a sign may only come first".to_owned();
    }
    match unsigned.chars().find(|&c| !c.is_ascii_digit() && c != '.') {
        Some(c) => format!("unexpected character {c:?}"),
        None => "there are no digits".to_owned(),
    }
}

/// The separator when `text` is digits grouped by threes ("1,000", "12 345.67", "1'000'000").
fn thousands_separator(text: &str) -> Option<char> {
    let int_part = match text.split_once('.') {
        Some((i, f)) if f.bytes().all(|b| b.is_ascii_digit()) => i,
        Some(_) => return None,
        None => text,
    };
    let separator = int_part.chars().find(|c| {
        matches!(
            c,
            ',' | ' ' | '\'' | '_' | '\u{a0}' | '\u{202f}' | '\u{2009}'
        )
    })?;
    let mut groups = int_part.split(separator);
    let first = groups.next()?;
    let digits = |g: &str| g.bytes().all(|b| b.is_ascii_digit());
    let grouped = (1..=3).contains(&first.len())
        && digits(first)
        && groups.all(|g| g.len() == 3 && digits(g));
    grouped.then_some(separator)
}

/// Mantissa, 'e' or 'E', optionally signed integer exponent: "1e6", "1.5E+03".
fn is_exponent_form(text: &str) -> bool {
    let Some((mantissa, exponent)) = text.split_once(['e', 'E']) else {
        return false;
    };
    let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    !mantissa.starts_with(['+', '-'])
        && split_decimal(mantissa).is_some()
        && !exponent.is_empty()
        && exponent.bytes().all(|b| b.is_ascii_digit())
}

fn is_currency_symbol(c: char) -> bool {
    matches!(
        c,
        '$' | '¢' | '£' | '¤' | '¥' | '֏' | '؋' | '৳' | '฿' | '៛' | '﷼'
    ) || ('\u{20a0}'..='\u{20cf}').contains(&c)
}

fn three_letter_run(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let start = bytes.iter().position(u8::is_ascii_alphabetic)?;
    let len = bytes[start..]
        .iter()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    (len == 3).then(|| &text[start..start + 3])
}

/// Validate an `xs:date` "YYYY-MM-DD" (a real calendar date, years 1000 to 9999); also accept an
/// `xs:dateTime` or a date with a timezone by taking its date part ("2020-01-31T00:00:00Z" and
/// "2020-01-31Z" give "2020-01-31"). Returns the normalised "YYYY-MM-DD".
///
/// Years before 1000 are refused although `xs:date` allows them: in IATI data they are typing mistakes
/// ("0202-01-01"), and a figure dated in antiquity would be silently wrong.
pub fn parse_iso_date(text: &str) -> Result<String, ValueError> {
    let trimmed = trim_xml(text);
    if trimmed.is_empty() {
        return Err(ValueError::Empty { what: "date" });
    }
    let refuse = |reason: String| ValueError::NotADate {
        text: quote(trimmed),
        reason,
    };
    let b = trimmed.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(range)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let (Some(year), Some(month), Some(day), Some(b'-'), Some(b'-')) = (
        digits(0..4),
        digits(5..7),
        digits(8..10),
        b.get(4),
        b.get(7),
    ) else {
        return Err(refuse("expected YYYY-MM-DD".to_owned()));
    };
    let rest = &trimmed[10..];
    if !(1000..=9999).contains(&year) {
        return Err(refuse(format!(
            "the year {year:04} is not between 1000 and 9999"
        )));
    }
    if !(1..=12).contains(&month) {
        return Err(refuse(format!("there is no month {month:02}")));
    }
    if day == 0 {
        return Err(refuse("there is no day 00".to_owned()));
    }
    let last_day = days_in_month(year, month);
    if day > last_day {
        return Err(refuse(format!(
            "{} {year} has {last_day} days",
            MONTH_NAMES[month as usize - 1]
        )));
    }
    if !(rest.is_empty() || is_timezone(rest) || is_time(rest)) {
        return Err(refuse(format!(
            "unexpected '{}' after the date: expected a time (T12:00:00) or a timezone (Z, +01:00)",
            quote(rest)
        )));
    }
    Ok(trimmed[..10].to_owned())
}

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Two digits at the start of `s`, as a number no greater than `max`.
fn two_digits(s: &str, max: u32) -> Option<u32> {
    let b = s.as_bytes().get(..2)?;
    let n = b.iter().try_fold(0, |n, d| {
        d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
    })?;
    (n <= max).then_some(n)
}

/// "Z", or "+HH:MM" / "-HH:MM" up to 14:00.
fn is_timezone(s: &str) -> bool {
    if s == "Z" {
        return true;
    }
    let Some(offset) = s.strip_prefix(['+', '-']) else {
        return false;
    };
    offset.len() == 5
        && offset.as_bytes()[2] == b':'
        && match (two_digits(offset, 14), two_digits(&offset[3..], 59)) {
            (Some(14), Some(0)) => true,
            (Some(h), Some(_)) => h < 14,
            _ => false,
        }
}

/// "THH:MM:SS", optional fraction of a second, optional timezone; "T24:00:00" is allowed, as in
/// `xs:dateTime`.
fn is_time(s: &str) -> bool {
    let Some(time) = s.strip_prefix('T') else {
        return false;
    };
    let b = time.as_bytes();
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return false;
    }
    let (Some(h), Some(m), Some(sec)) = (
        two_digits(time, 24),
        two_digits(&time[3..], 59),
        two_digits(&time[6..], 59),
    ) else {
        return false;
    };
    let mut rest = &time[8..];
    let mut fraction_is_zero = true;
    if let Some(fraction) = rest.strip_prefix('.') {
        let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return false;
        }
        fraction_is_zero = fraction[..len].bytes().all(|d| d == b'0');
        rest = &fraction[len..];
    }
    (h < 24 || m == 0 && sec == 0 && fraction_is_zero) && (rest.is_empty() || is_timezone(rest))
}

/// A currency code: three ASCII letters, upper-cased on the way in (publishers write "usd" too).
///
/// Whether the code is in the Currency codelist is the codelists' business, not this type's.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CurrencyCode([u8; 3]);

impl CurrencyCode {
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let trimmed = trim_xml(text);
        match trimmed.as_bytes() {
            [] => Err(ValueError::Empty {
                what: "currency code",
            }),
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_alphabetic) => {
                Ok(CurrencyCode([a, b, c].map(|l| l.to_ascii_uppercase())))
            }
            _ => Err(ValueError::NotACurrencyCode {
                text: quote(trimmed),
                reason: if trimmed.chars().any(is_currency_symbol) {
                    "expected three letters such as USD, not a symbol".to_owned()
                } else {
                    "expected three letters such as USD".to_owned()
                },
            }),
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII letters get in, so this cannot fail.
        std::str::from_utf8(&self.0).expect("a currency code is ASCII")
    }
}

impl fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CurrencyCode({})", self.as_str())
    }
}

impl FromStr for CurrencyCode {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for CurrencyCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for CurrencyCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    #[test]
    fn amounts_accepted() {
        let cases = [
            ("0", "0"),
            ("1000", "1000"),
            ("  1000.50\n", "1000.50"),
            ("\t-12.5 ", "-12.5"),
            ("+7", "7"),
            (".5", "0.5"),
            ("5.", "5"),
            ("-.25", "-0.25"),
            ("007.10", "7.10"),
            ("-0", "0"),
            (
                "0.0000000000000000000000000001",
                "0.0000000000000000000000000001",
            ),
            (
                "79228162514264337593543950335",
                "79228162514264337593543950335",
            ),
            (
                "-79228162514264337593543950335",
                "-79228162514264337593543950335",
            ),
            // Too many decimal places to hold, but only because of trailing zeros: the value is kept.
            ("1.000000000000000000000000000000000", "1"),
        ];
        for (text, expected) in cases {
            let got = parse_amount(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(got.to_string(), expected, "{text:?}");
        }
    }

    #[test]
    fn amount_keeps_the_written_scale() {
        assert_eq!(parse_amount("100.00").unwrap().scale(), 2);
        assert_eq!(parse_amount("100").unwrap().scale(), 0);
    }

    #[test]
    fn amounts_refused_say_why() {
        let cases = [
            (
                "1,000.00",
                "'1,000.00' is not a number: thousands separators are not allowed",
            ),
            (
                "1 000 000",
                "'1 000 000' is not a number: thousands separators are not allowed (found spaces)",
            ),
            (
                "1'000",
                "'1'000' is not a number: thousands separators are not allowed (found apostrophes)",
            ),
            (
                "1_000",
                "'1_000' is not a number: thousands separators are not allowed (found underscores)",
            ),
            (
                "1\u{202f}000",
                "'1\u{202f}000' is not a number: thousands separators are not allowed \
                 (found no-break spaces)",
            ),
            (
                "12,5",
                "'12,5' is not a number: a comma is not allowed: the decimal separator is '.' \
                 and there are no thousands separators",
            ),
            (
                "1.000,50",
                "'1.000,50' is not a number: a comma is not allowed: the decimal separator is '.' \
                 and there are no thousands separators",
            ),
            (
                "1e6",
                "'1e6' is not a number: exponents are not allowed: write the number out in full",
            ),
            (
                "-1.5E+03",
                "'-1.5E+03' is not a number: exponents are not allowed: write the number out in full",
            ),
            (
                "$100",
                "'$100' is not a number: currency symbols are not allowed (found '$'); \
                 the currency is a separate attribute",
            ),
            (
                "100 €",
                "'100 €' is not a number: currency symbols are not allowed (found '€'); \
                 the currency is a separate attribute",
            ),
            (
                "USD 100",
                "'USD 100' is not a number: currency codes are not allowed (found 'USD'); \
                 the currency is a separate attribute",
            ),
            (
                "50%",
                "'50%' is not a number: a percent sign is not allowed: write the number alone",
            ),
            ("NaN", "'NaN' is not a number: NaN and infinity are not allowed"),
            ("-INF", "'-INF' is not a number: NaN and infinity are not allowed"),
            ("1.2.3", "'1.2.3' is not a number: there is more than one decimal point"),
            ("1-2", "'1-2' is not a number: a sign may only come first"),
            ("--1", "'--1' is not a number: a sign may only come first"),
            ("-", "'-' is not a number: there are no digits"),
            (".", "'.' is not a number: there are no digits"),
            ("12 34", "'12 34' is not a number: spaces are not allowed inside a number (found ' ')"),
            ("0x1F", "'0x1F' is not a number: unexpected character 'x'"),
            ("١٢", "'١٢' is not a number: unexpected character '١'"),
            ("", "the amount is empty"),
            (" \n ", "the amount is empty"),
            (
                "79228162514264337593543950336",
                "'79228162514264337593543950336' has more digits than can be held exactly \
                 (at most 28 decimal places and about 28 significant digits)",
            ),
            (
                "0.00000000000000000000000000001",
                "'0.00000000000000000000000000001' has more digits than can be held exactly \
                 (at most 28 decimal places and about 28 significant digits)",
            ),
        ];
        for (text, expected) in cases {
            let err = parse_amount(text).expect_err(text);
            assert_eq!(err.to_string(), expected, "{text:?}");
        }
    }

    #[test]
    fn long_garbage_is_quoted_short() {
        let text = "x".repeat(10_000);
        let message = parse_amount(&text).unwrap_err().to_string();
        assert!(message.len() < 120, "{message}");
        let digits = "9".repeat(10_000);
        assert!(matches!(
            parse_amount(&digits),
            Err(ValueError::TooManyDigits { .. })
        ));
    }

    #[test]
    fn percentages() {
        for (text, expected) in [
            ("0", "0"),
            ("100", "100"),
            ("33.33", "33.33"),
            ("100.000", "100.000"),
            ("-0", "0"),
        ] {
            assert_eq!(parse_percentage(text).unwrap(), dec(expected), "{text}");
        }
        for text in ["100.0001", "-0.01", "250"] {
            assert_eq!(
                parse_percentage(text),
                Err(ValueError::PercentageOutOfRange { text: text.into() })
            );
        }
        assert_eq!(
            parse_percentage("").unwrap_err().to_string(),
            "the percentage is empty"
        );
        assert!(matches!(
            parse_percentage("50%"),
            Err(ValueError::NotANumber { .. })
        ));
    }

    #[test]
    fn dates_accepted() {
        let cases = [
            ("2020-01-31", "2020-01-31"),
            (" 2020-01-31\n", "2020-01-31"),
            ("2020-02-29", "2020-02-29"),
            ("2000-02-29", "2000-02-29"),
            ("1000-01-01", "1000-01-01"),
            ("9999-12-31", "9999-12-31"),
            ("2020-01-31Z", "2020-01-31"),
            ("2020-01-31+02:00", "2020-01-31"),
            ("2020-01-31-14:00", "2020-01-31"),
            ("2020-01-31T00:00:00", "2020-01-31"),
            ("2020-01-31T00:00:00Z", "2020-01-31"),
            ("2020-01-31T23:59:59.999+05:30", "2020-01-31"),
            ("2020-01-31T24:00:00", "2020-01-31"),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_iso_date(text).as_deref(), Ok(expected), "{text:?}");
        }
    }

    #[test]
    fn dates_refused_say_why() {
        let cases = [
            ("", "the date is empty"),
            (
                "31/01/2020",
                "'31/01/2020' is not a date: expected YYYY-MM-DD",
            ),
            (
                "2020/01/31",
                "'2020/01/31' is not a date: expected YYYY-MM-DD",
            ),
            (
                "2020-1-31",
                "'2020-1-31' is not a date: expected YYYY-MM-DD",
            ),
            ("20200131", "'20200131' is not a date: expected YYYY-MM-DD"),
            (
                "-2020-01-31",
                "'-2020-01-31' is not a date: expected YYYY-MM-DD",
            ),
            (
                "2021-02-29",
                "'2021-02-29' is not a date: February 2021 has 28 days",
            ),
            (
                "1900-02-29",
                "'1900-02-29' is not a date: February 1900 has 28 days",
            ),
            (
                "2020-04-31",
                "'2020-04-31' is not a date: April 2020 has 30 days",
            ),
            (
                "2020-13-01",
                "'2020-13-01' is not a date: there is no month 13",
            ),
            (
                "2020-00-10",
                "'2020-00-10' is not a date: there is no month 00",
            ),
            (
                "2020-01-00",
                "'2020-01-00' is not a date: there is no day 00",
            ),
            (
                "0202-01-01",
                "'0202-01-01' is not a date: the year 0202 is not between 1000 and 9999",
            ),
            (
                "2020-01-31T25:00:00",
                "'2020-01-31T25:00:00' is not a date: unexpected 'T25:00:00' after the date: \
                 expected a time (T12:00:00) or a timezone (Z, +01:00)",
            ),
            (
                "2020-01-31 12:00",
                "'2020-01-31 12:00' is not a date: unexpected ' 12:00' after the date: \
                 expected a time (T12:00:00) or a timezone (Z, +01:00)",
            ),
        ];
        for (text, expected) in cases {
            let err = parse_iso_date(text).expect_err(text);
            assert_eq!(err.to_string(), expected, "{text:?}");
        }
        for text in [
            "2020-01-31T24:00:01",
            "2020-01-31T12:00",
            "2020-01-31T12:00:00.",
            "2020-01-31+15:00",
            "2020-01-31+01:60",
            "2020-01-31+0100",
            "2020-01-31z",
            "2020-01-31ZZ",
            "2020-01-31T12:00:00ZZ",
            "２０２０-01-31",
        ] {
            assert!(parse_iso_date(text).is_err(), "{text:?} was accepted");
        }
    }

    #[test]
    fn currency_codes() {
        for (text, expected) in [("USD", "USD"), ("eur", "EUR"), (" Chf\n", "CHF")] {
            assert_eq!(CurrencyCode::parse(text).unwrap().as_str(), expected);
        }
        let cases = [
            ("", "the currency code is empty"),
            (
                "US",
                "'US' is not a currency code: expected three letters such as USD",
            ),
            (
                "USDX",
                "'USDX' is not a currency code: expected three letters such as USD",
            ),
            (
                "U5D",
                "'U5D' is not a currency code: expected three letters such as USD",
            ),
            (
                "ÉUR",
                "'ÉUR' is not a currency code: expected three letters such as USD",
            ),
            (
                "$",
                "'$' is not a currency code: expected three letters such as USD, not a symbol",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(CurrencyCode::parse(text).unwrap_err().to_string(), expected);
        }
        let code: CurrencyCode = "gbp".parse().unwrap();
        assert_eq!(code.to_string(), "GBP");
        assert_eq!(format!("{code:?}"), "CurrencyCode(GBP)");
    }

    /// Days since 1970-01-01 and back (Howard Hinnant's algorithms): a date is real when the round
    /// trip gives it back. Deliberately unlike the month-length table the parser uses.
    fn is_real_date(y: i64, m: i64, d: i64) -> bool {
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
            return false;
        }
        let yy = if m <= 2 { y - 1 } else { y };
        let era = yy.div_euclid(400);
        let yoe = yy - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;

        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d2 = doy - (153 * mp + 2) / 5 + 1;
        let m2 = if mp < 10 { mp + 3 } else { mp - 9 };
        let y2 = yoe + era * 400 + i64::from(m2 <= 2);
        (y2, m2, d2) == (y, m, d)
    }

    proptest! {
        #[test]
        fn parse_amount_never_panics(text in "\\PC*") {
            let _ = parse_amount(&text);
            let _ = parse_percentage(&text);
        }

        #[test]
        fn parse_amount_never_panics_on_number_like_text(text in "[ +\\-0-9.,eE_$]{0,60}") {
            let _ = parse_amount(&text);
        }

        #[test]
        fn decimals_round_trip(m in any::<i64>(), scale in 0u32..=10) {
            let d = Decimal::new(m, scale);
            let parsed = parse_amount(&d.to_string()).unwrap();
            prop_assert_eq!(parsed, d);
            prop_assert_eq!(parsed.scale(), d.scale());
            prop_assert_eq!(parsed.to_string(), d.to_string());
        }

        #[test]
        fn amounts_agree_with_rust_decimal(text in "[+-]?[0-9]{1,20}(\\.[0-9]{0,8})?") {
            prop_assert_eq!(parse_amount(&text).unwrap(), dec(&text));
        }

        #[test]
        fn parse_iso_date_never_panics(text in "\\PC*") {
            let _ = parse_iso_date(&text);
        }

        #[test]
        fn parse_iso_date_accepts_exactly_real_dates(y in 0i64..=10_999, m in 0i64..=13, d in 0i64..=32) {
            let text = format!("{y:04}-{m:02}-{d:02}");
            let expected = (1000..=9999).contains(&y) && is_real_date(y, m, d);
            prop_assert_eq!(parse_iso_date(&text).is_ok(), expected, "{}", text);
            if expected {
                prop_assert_eq!(parse_iso_date(&format!("{text}T00:00:00Z")).unwrap(), text);
            }
        }

        #[test]
        fn currency_code_never_panics(text in "\\PC{0,5}") {
            if let Ok(code) = CurrencyCode::parse(&text) {
                prop_assert_eq!(code.as_str(), text.trim().to_ascii_uppercase());
            }
        }
    }

    #[test]
    fn every_leap_day_of_the_range() {
        for y in 1000..=9999 {
            let text = format!("{y:04}-02-29");
            assert_eq!(
                parse_iso_date(&text).is_ok(),
                is_real_date(y, 2, 29),
                "{text}"
            );
        }
    }
}
