//! The sentences of method notes beyond the fixed ones of `figures::METHOD_SENTENCES`: those
//! with a count, a name or a period in them, and the fixed sentences of the entity pages, the
//! map and the downloads. Each is a [`MethodText`] with a key and an English template whose
//! `{name}` placeholders the store fills; a page in another language matches the English
//! sentence back against its template ([`MethodText::read`]), takes the values out, and says
//! the sentence from its own catalog with the same values, numbers written as its language
//! writes them. The store's notes stay English text, so the JSON API and every caller keep
//! one plain string per field.

/// One sentence of method notes, by key, with its English template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodText {
    pub key: &'static str,
    pub english: &'static str,
}

impl MethodText {
    /// The sentence in English with `values` in its placeholders.
    pub fn say(&self, values: &[(&str, &str)]) -> String {
        fill(self.english, values)
    }

    /// The values of the placeholders, if `sentence` is this template filled in.
    pub fn read(&self, sentence: &str) -> Option<Vec<(&'static str, String)>> {
        read(self.english, sentence)
    }
}

/// `template` with each `{name}` replaced by its value in `values`; a placeholder without a
/// value stays as it is.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut filled = template.to_owned();
    for (name, value) in values {
        filled = filled.replace(&format!("{{{name}}}"), value);
    }
    filled
}

/// The values of `template`'s placeholders in `sentence`, if the sentence is the template
/// filled in: the literal parts must all be there, in order, and each value is what lies
/// between two of them. A value has no spaces (the counts, codes and periods filled in here
/// have none), which keeps "5 shares of confidential agreements" from reading as a count of
/// "5 shares of" under a shorter template.
fn read(template: &'static str, sentence: &str) -> Option<Vec<(&'static str, String)>> {
    let mut values = Vec::new();
    let mut rest = template;
    let mut remaining = sentence;
    // The literal part before the first placeholder.
    let (head, tail) = rest.split_once('{').unwrap_or((rest, ""));
    remaining = remaining.strip_prefix(head)?;
    if tail.is_empty() && !rest.contains('{') {
        return remaining.is_empty().then_some(values);
    }
    rest = tail;
    loop {
        let (name, after) = rest.split_once('}')?;
        let (literal, next) = match after.split_once('{') {
            Some((literal, next)) => (literal, Some(next)),
            None => (after, None),
        };
        let value = match next {
            // The last placeholder takes everything up to the final literal part.
            None => remaining.strip_suffix(literal)?,
            Some(_) if literal.is_empty() => return None,
            Some(_) => &remaining[..remaining.find(literal)?],
        };
        if value.is_empty() || value.contains(char::is_whitespace) {
            return None;
        }
        values.push((name, value.to_owned()));
        remaining = &remaining[value.len() + literal.len()..];
        match next {
            Some(next) => rest = next,
            None => return Some(values),
        }
    }
}

macro_rules! method_texts {
    ($($name:ident = $key:literal : $english:expr;)*) => {
        $(pub const $name: MethodText = MethodText { key: $key, english: $english };)*
        /// Every sentence, for the pages that say them in another language.
        pub const METHOD_TEXTS: &[MethodText] = &[$($name),*];
    };
}

method_texts! {
    WITHHELD_ENTRIES = "withheld_entries": "{rates} entries without a rate left out; {confidential} confidential agreements counted in the totals and never itemised";
    WITHHELD_BUDGETS = "withheld_budgets": "{rates} budgets without a rate left out";
    WITHHELD_SHARES = "withheld_shares": "{rates} shares without a rate left out; {confidential} confidential agreements counted in the totals and never itemised";
    WITHHELD_PARTNER_SHARES = "withheld_partner_shares": "{rates} shares without a rate left out; {confidential} shares of confidential agreements counted in the totals and never itemised";
    PORTFOLIO_BASIS = "portfolio_basis": "activities that start (actual date, else planned) by the period's last day and end (actual, else planned) on or after its first day, or have no end; countries are their distinct recipient countries";
    PORTFOLIO_BASIS_REPORTED = "portfolio_basis_reported": "activities reported by {organisation} that start (actual date, else planned) by the period's last day and end (actual, else planned) on or after its first day, or have no end; countries are their distinct recipient countries";
    MAP_BASIS = "map_basis": "activities that start (actual date, else planned) by the period's last day and end (actual, else planned) on or after its first day, or have no end, counted once in each of their recipient countries: an activity in several countries counts in each, so the counts add up to more than the programmes and projects active, and one without a recipient country is on no country";
    MAP_BASIS_REPORTED = "map_basis_reported": "activities reported by {organisation} that start (actual date, else planned) by the period's last day and end (actual, else planned) on or after its first day, or have no end, counted once in each of their recipient countries: an activity in several countries counts in each, so the counts add up to more than the programmes and projects active, and one without a recipient country is on no country";
    PARTNERS_BASIS = "partners_basis": "approved: each partner's shares of agreements signed, active or closed, at their signature date; a partner counts as itself here, before any roll-up";
    PARTNER_BASIS = "partner_basis": "approved: the partner's shares of agreements signed, active or closed, at their signature date, by biennium";
    SHARE_CONVERSION = "share_conversion": "each share converted at its signature date: the month's average rate, else the year's, stored rates before the bundled ones; a share without a rate is left out, never counted as zero";
    COUNTRY_BUDGET_BASIS = "country_budget_basis": "budget: the budgets of programmes and projects whose recipient countries include {country}, by the year their budget period starts; a budget of several countries counts at this country's percentage, in equal parts when none is given";
    BUDGET_CONVERSION = "budget_conversion": "each budget converted at its value date (else its period start): the month's average rate, else the year's";
    ALL_PERIODS = "all_periods": "all periods";
    NO_PERIOD = "no_period": "none";
    PERIOD_RANGE = "period_range": "{first} to {last}";
    DOWNLOAD_BASIS = "download_basis": "every programme and project that the filters of this view match, in its order, one row each; no row limit";
    DOWNLOAD_BASIS_REPORTED = "download_basis_reported": "every programme and project reported by {organisation} that the filters of this view match, in its order, one row each; no row limit";
    DOWNLOAD_BUDGET = "download_budget": "budget_usd sums the activity's own budgets (all periods) in US dollars; budgets_without_rate counts those left out for want of a rate or currency, never counted as zero";
    DOWNLOAD_HIERARCHY = "download_hierarchy": "each row holds its own budget: a programme's budget and its projects' budgets overlap, so do not add the rows of a programme and its projects together";
    DOWNLOAD_REVISED = "download_revised": "a revised budget replaces the original of the same activity and period start";
    DOWNLOAD_CONVERSION = "download_conversion": "each budget converted at the start of its period: the month's average rate, else the year's, stored rates before the bundled ones, rounded half away from zero to the cent";
    DOWNLOAD_POLICY_AREAS = "download_policy_areas": "policy areas set by hand, else mapped from the DAC sectors (data/reference)";
    DOWNLOAD_MARKERS = "download_markers": "South-South, triangular, joint UN programme and MPTF markers as the organisation records them for each project";
    DOWNLOAD_PARTNERS = "download_partners": "a partner stands behind a project when one of its agreements earmarks the project or when the project names it as a participating organisation";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filled_sentence_reads_back_its_values() {
        let said = WITHHELD_ENTRIES.say(&[("rates", "3"), ("confidential", "12")]);
        assert!(said.starts_with("3 entries without a rate"));
        assert_eq!(
            WITHHELD_ENTRIES.read(&said),
            Some(vec![
                ("rates", "3".to_owned()),
                ("confidential", "12".to_owned())
            ])
        );
        let range = PERIOD_RANGE.say(&[("first", "2020-21"), ("last", "2024-25")]);
        assert_eq!(range, "2020-21 to 2024-25");
        assert_eq!(
            PERIOD_RANGE.read(&range),
            Some(vec![
                ("first", "2020-21".to_owned()),
                ("last", "2024-25".to_owned())
            ])
        );
        let reported = PORTFOLIO_BASIS_REPORTED.say(&[("organisation", "XM-DAC-41302")]);
        assert_eq!(
            PORTFOLIO_BASIS_REPORTED.read(&reported),
            Some(vec![("organisation", "XM-DAC-41302".to_owned())])
        );
    }

    #[test]
    fn other_sentences_do_not_match() {
        assert_eq!(ALL_PERIODS.read("all periods"), Some(Vec::new()));
        assert_eq!(ALL_PERIODS.read("all periods, and more"), None);
        assert_eq!(
            WITHHELD_BUDGETS.read("budgets without a rate left out"),
            None
        );
        assert_eq!(
            WITHHELD_BUDGETS.read("3 entries without a rate left out"),
            None
        );
        assert_eq!(PORTFOLIO_BASIS_REPORTED.read(PORTFOLIO_BASIS.english), None);
    }

    #[test]
    fn keys_are_unique() {
        let mut keys: Vec<&str> = METHOD_TEXTS.iter().map(|text| text.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), METHOD_TEXTS.len());
    }
}
