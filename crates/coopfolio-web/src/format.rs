//! How numbers, dates and codes read on a page: amounts in millions of US dollars and counts,
//! grouped as the visitor's language writes numbers, and codes named in the visitor's language from the reference tables and IATI codelists.

use coopfolio_core::codelists::Codelists;
use coopfolio_core::country::Countries;
use coopfolio_core::modality::Modality;
use coopfolio_core::policy_area::PolicyArea;
use rust_decimal::Decimal;

use crate::text::{Catalog, Lang};

/// "965.1": US dollars in millions to one decimal, with thousands grouped as the page's
/// language writes them: "1,234.5" in English, "1 234,5" in French (a narrow no-break space),
/// "1.234,5" in Spanish. Pages only: downloads keep machine-readable decimals.
///
/// The language is the request's, which the language middleware holds for as long as the
/// handler runs, so that every figure on a page reads alike without each view passing it on.
pub fn millions(usd: Decimal) -> String {
    millions_in(usd, crate::language::current())
}

/// [`millions`] in a given language.
pub fn millions_in(usd: Decimal, lang: Lang) -> String {
    let millions = (usd / Decimal::from(1_000_000)).round_dp(1);
    let text = format!("{millions:.1}");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, "0"));
    let (group, decimal) = separators(lang);
    format!("{}{decimal}{fraction}", grouped(whole, group))
}

/// A count with its thousands grouped in the page's language: "1,234", "1 234", "1.234".
pub fn count(number: u64) -> String {
    count_in(number, crate::language::current())
}

/// [`count`] in a given language.
pub fn count_in(number: u64, lang: Lang) -> String {
    grouped(&number.to_string(), separators(lang).0)
}

/// The thousands separator and the decimal mark of a language.
fn separators(lang: Lang) -> (&'static str, &'static str) {
    match lang {
        Lang::En => (",", "."),
        // French typography puts a narrow no-break space between groups, so that a number
        // never breaks across lines.
        Lang::Fr => ("\u{202F}", ","),
        Lang::Es => (".", ","),
    }
}

/// Digits (with an optional leading minus) in groups of three.
fn grouped(whole: &str, separator: &str) -> String {
    let (sign, digits) = match whole.strip_prefix('-') {
        Some(digits) => ("-", digits),
        None => ("", whole),
    };
    let mut grouped = String::from(sign);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push_str(separator);
        }
        grouped.push(digit);
    }
    grouped
}

/// A method-note sentence in the catalog's language: one of the store's fixed sentences
/// ([`coopfolio_store::figures::METHOD_SENTENCES`]), or one of its templated sentences
/// ([`coopfolio_store::method_text::METHOD_TEXTS`]) said from the catalog's `ss_method_<key>`
/// with the same values, counts grouped as the language writes numbers and country codes
/// named. A sentence that is neither stays as the store gave it.
pub fn method_sentence(sentence: &str, text: &Catalog) -> String {
    if let Some(said) = method_text(sentence, text) {
        return said;
    }
    let key = match coopfolio_store::figures::method_sentence_key(sentence) {
        Some("approved") => "portal_method_approved",
        Some("received") => "portal_method_received",
        Some("hierarchy_contributions") => "portal_method_hierarchy_contributions",
        Some("no_revised_budgets") => "portal_method_no_revised_budgets",
        Some("conversion") => "portal_method_conversion",
        Some("budget") => "portal_method_budget",
        Some("budget_hierarchy") => "portal_method_budget_hierarchy",
        Some("budget_revised") => "portal_method_budget_revised",
        Some("portfolio_hierarchy") => "portal_method_portfolio_hierarchy",
        Some("portfolio_revised") => "portal_method_portfolio_revised",
        Some("no_money") => "portal_method_no_money",
        Some("nothing_withheld") => "portal_method_nothing_withheld",
        _ => return sentence.to_owned(),
    };
    text.get(key).to_owned()
}

/// A templated method sentence in the catalog's language, if `sentence` is one.
fn method_text(sentence: &str, text: &Catalog) -> Option<String> {
    let (method_text, values) = coopfolio_store::method_text::METHOD_TEXTS
        .iter()
        .find_map(|method_text| Some((method_text, method_text.read(sentence)?)))?;
    let template = text.find(&format!("ss_method_{}", method_text.key))?;
    let lang = text.lang();
    let values: Vec<(&str, String)> = values
        .into_iter()
        .map(|(name, value)| {
            let said = match value.parse::<u64>() {
                Ok(number) => count_in(number, lang),
                Err(_) if name == "country" => country(&value, lang.code()),
                Err(_) => value,
            };
            (name, said)
        })
        .collect();
    let pairs: Vec<(&str, &str)> = values
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    Some(coopfolio_store::method_text::fill(template, &pairs))
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
        assert_eq!(millions(Decimal::new(-1_234_560_000, 0)), "-1,234.6");
    }

    #[test]
    fn every_fixed_method_sentence_reads_in_each_language() {
        for (key, english) in coopfolio_store::figures::METHOD_SENTENCES {
            let in_english = method_sentence(english, crate::text::catalog(Lang::En));
            assert_eq!(&in_english, english, "{key}: the English catalog differs");
            for lang in [Lang::Fr, Lang::Es] {
                let said = method_sentence(english, crate::text::catalog(lang));
                assert_ne!(&said, english, "{key} is not translated into {lang:?}");
                assert!(
                    !said.starts_with("portal_method_"),
                    "{key}: no text for {lang:?}"
                );
            }
        }
        // A sentence that is none of the store's stays as given.
        let made = "3 budgets without a rate left out, and more";
        assert_eq!(method_sentence(made, crate::text::catalog(Lang::Fr)), made);
    }

    #[test]
    fn every_templated_method_sentence_reads_in_each_language_with_its_values() {
        use coopfolio_store::method_text::METHOD_TEXTS;
        let placeholders = |template: &str| -> Vec<String> {
            let mut names: Vec<String> = template
                .split('{')
                .skip(1)
                .filter_map(|part| part.split_once('}').map(|(name, _)| name.to_owned()))
                .collect();
            names.sort();
            names
        };
        for method_text in METHOD_TEXTS {
            let key = format!("ss_method_{}", method_text.key);
            let english = crate::text::catalog(Lang::En).find(&key);
            assert_eq!(
                english,
                Some(method_text.english),
                "{key}: the English catalog differs"
            );
            for lang in [Lang::Fr, Lang::Es] {
                let said = crate::text::catalog(lang).find(&key).expect(&key);
                assert_ne!(
                    said, method_text.english,
                    "{key} is not translated into {lang:?}"
                );
                assert_eq!(
                    placeholders(said),
                    placeholders(method_text.english),
                    "{key} {lang:?}"
                );
            }
        }
        let withheld = coopfolio_store::method_text::WITHHELD_ENTRIES
            .say(&[("rates", "1234"), ("confidential", "2")]);
        assert_eq!(
            method_sentence(&withheld, crate::text::catalog(Lang::Fr)),
            "1\u{202F}234 écritures sans taux laissées de côté ; 2 accords confidentiels comptés dans les totaux et jamais détaillés"
        );
        // English pages group counts too, as they do everywhere else.
        assert_eq!(
            method_sentence(&withheld, crate::text::catalog(Lang::En)),
            withheld.replace("1234", "1,234")
        );
        let budget = coopfolio_store::method_text::COUNTRY_BUDGET_BASIS.say(&[("country", "KE")]);
        assert!(
            method_sentence(&budget, crate::text::catalog(Lang::Es)).contains("incluyen Kenia,")
        );
        let range = coopfolio_store::method_text::PERIOD_RANGE
            .say(&[("first", "2020-21"), ("last", "2024-25")]);
        assert_eq!(
            method_sentence(&range, crate::text::catalog(Lang::Es)),
            "2020-21 a 2024-25"
        );
    }

    #[test]
    fn numbers_read_as_each_language_writes_them() {
        let usd = Decimal::new(1_234_567_800_000, 0);
        assert_eq!(millions_in(usd, Lang::En), "1,234,567.8");
        assert_eq!(millions_in(usd, Lang::Fr), "1\u{202F}234\u{202F}567,8");
        assert_eq!(millions_in(usd, Lang::Es), "1.234.567,8");
        assert_eq!(count_in(1_234, Lang::Fr), "1\u{202F}234");
        assert_eq!(count_in(770, Lang::Es), "770");
        assert_eq!(count_in(12_345, Lang::Es), "12.345");
        assert_eq!(count_in(1_000_000, Lang::En), "1,000,000");
    }
}
