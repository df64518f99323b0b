//! How numbers, dates and codes read on a page: amounts in millions of US dollars, and codes
//! named in the visitor's language from the reference tables and IATI codelists.

use coopfolio_core::codelists::Codelists;
use coopfolio_core::country::Countries;
use coopfolio_core::modality::Modality;
use coopfolio_core::policy_area::PolicyArea;
use rust_decimal::Decimal;

/// "965.1": US dollars in millions to one decimal, with thousands separated ("1,234.5").
pub fn millions(usd: Decimal) -> String {
    let millions = (usd / Decimal::from(1_000_000)).round_dp(1);
    let text = format!("{millions:.1}");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, "0"));
    let (sign, digits) = match whole.strip_prefix('-') {
        Some(digits) => ("-", digits),
        None => ("", whole),
    };
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{sign}{grouped}.{fraction}")
}

pub fn modality(code: &str, lang: &str) -> String {
    Modality::from_code(code).map_or_else(|| code.to_owned(), |m| m.label(lang).to_owned())
}

pub fn policy_area(code: &str, lang: &str) -> String {
    PolicyArea::from_code(code).map_or_else(|| code.to_owned(), |a| a.label(lang).to_owned())
}

pub fn country(code: &str, lang: &str) -> String {
    Countries::bundled()
        .get(code)
        .map_or_else(|| code.to_owned(), |c| c.names.get(lang).to_owned())
}

/// The name of a code in an IATI codelist, else the code itself.
pub fn codelist(list: &str, code: &str, lang: &str) -> String {
    let codelists = Codelists::bundled();
    codelists
        .name(list, code.trim(), lang)
        .map_or_else(|| code.to_owned(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millions_round_to_one_decimal_and_group_thousands() {
        assert_eq!(millions(Decimal::new(965_123_456, 0)), "965.1");
        assert_eq!(millions(Decimal::new(1_234_560_000, 0)), "1,234.6");
        assert_eq!(millions(Decimal::ZERO), "0.0");
    }
}
