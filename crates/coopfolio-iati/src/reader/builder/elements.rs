//! What each IATI element gives the record: the handlers of start tags by parent, and the
//! checks that turn attribute and text values into codes, amounts, dates and diagnostics.
//!
//! Every handler reads all the attributes of its tag (checking them even when it keeps none),
//! fills in the part of the record it belongs to, and answers with the `Kind` the element has
//! on the stack, which decides how its children and text are read.

use std::borrow::Cow;

use coopfolio_core::value;
use quick_xml::escape::EscapeError;
use quick_xml::events::BytesStart;
use rust_decimal::Decimal;

use super::super::attributes::AttributeScanner;
use super::{Context, Fatal, Holder, Kind, List, OrganisationLine, Scratch, ValueOwner};
use crate::model::{
    Activity, ActivityDate, AidType, Budget, Description, Organisation, OrganisationBudget,
    OrganisationRef, ParticipatingOrg, RecipientCountry, RecipientRegion, RelatedActivity, Sector,
    Transaction,
};

/// A child of `<iati-activity>`.
pub(super) fn activity_child(
    context: &mut Context,
    scratch: &mut Scratch,
    activity: &mut Activity,
    name: &[u8],
    start: &BytesStart<'_>,
) -> Result<Kind, Fatal> {
    let kind = match name {
        b"iati-identifier" => {
            validate_attributes(context, start)?;
            scratch.text.clear();
            Kind::Identifier
        }
        // The organisation elements take `xml:lang` too: a 1.x file gives the name as the
        // element's own text, in the element's language.
        b"reporting-org" => {
            let [reference, kind, lang] =
                read_attributes(context, start, [b"ref", b"type", b"xml:lang"])?;
            activity.reporting_org = Some(OrganisationRef {
                reference: owned_code(reference),
                kind: checked_code(context, List::OrganisationType, kind),
                names: Vec::new(),
                activity_identifier: None,
            });
            scratch.start_holder(lang);
            Kind::Holder(Holder::ReportingOrg)
        }
        b"title" => {
            let [lang] = read_attributes(context, start, [b"xml:lang"])?;
            scratch.start_holder(lang);
            Kind::Holder(Holder::Title)
        }
        b"description" => {
            let [kind, lang] = read_attributes(context, start, [b"type", b"xml:lang"])?;
            activity.descriptions.push(Description {
                kind: checked_code(context, List::DescriptionType, kind),
                narratives: Vec::new(),
            });
            scratch.start_holder(lang);
            Kind::Holder(Holder::Description)
        }
        b"participating-org" => {
            let [reference, kind, role, activity_identifier, channel, lang] = read_attributes(
                context,
                start,
                [
                    b"ref",
                    b"type",
                    b"role",
                    b"activity-id",
                    b"crs-channel-code",
                    b"xml:lang",
                ],
            )?;
            // 1.x files name the role in words ("Funding"); the store wants the code.
            let role = owned_code(role).map(legacy_organisation_role);
            if let Some(role) = &role {
                context.check_code(List::OrganisationRole, role);
            }
            activity.participating_orgs.push(ParticipatingOrg {
                reference: owned_code(reference),
                kind: checked_code(context, List::OrganisationType, kind),
                role,
                activity_identifier: owned_code(activity_identifier),
                crs_channel_code: owned_code(channel),
                names: Vec::new(),
            });
            scratch.start_holder(lang);
            Kind::Holder(Holder::ParticipatingOrg)
        }
        b"activity-status" => {
            let [code] = read_attributes(context, start, [b"code"])?;
            activity.status = checked_code(context, List::ActivityStatus, code);
            Kind::Skipped
        }
        b"activity-date" => {
            let [kind, date] = read_attributes(context, start, [b"type", b"iso-date"])?;
            let kind = owned_code(kind).map(legacy_activity_date_type);
            // A date that cannot be read leaves the element out: a date of the wrong day is
            // worse than none, and the warning says what was there.
            let date = iso_date(context, date, "iso-date");
            match kind {
                Some(kind) => {
                    context.check_code(List::ActivityDateType, &kind);
                    if let Some(date) = date {
                        activity.dates.push(ActivityDate { kind, date });
                    }
                }
                None => context.warn(
                    "missing-attribute",
                    "the activity date has no @type and is left out".to_string(),
                ),
            }
            Kind::Skipped
        }
        b"recipient-country" => {
            let [code, percentage] = read_attributes(context, start, [b"code", b"percentage"])?;
            if let Some(code) = country_code(context, code) {
                activity.recipient_countries.push(RecipientCountry {
                    code,
                    percentage: percentage_value(context, percentage),
                });
            }
            Kind::Skipped
        }
        b"recipient-region" => {
            let [code, vocabulary, percentage] =
                read_attributes(context, start, [b"code", b"vocabulary", b"percentage"])?;
            let vocabulary = owned_code(vocabulary);
            match owned_code(code) {
                Some(code) => {
                    // Only the OECD DAC vocabulary (1, the default) has a bundled codelist;
                    // codes of other vocabularies are kept unchecked.
                    if matches!(vocabulary.as_deref(), None | Some("1")) {
                        context.check_code(List::Region, &code);
                    }
                    activity.recipient_regions.push(RecipientRegion {
                        code,
                        vocabulary,
                        percentage: percentage_value(context, percentage),
                    });
                }
                None => missing_code(context, "recipient region"),
            }
            Kind::Skipped
        }
        b"sector" => {
            let [code, vocabulary, percentage] =
                read_attributes(context, start, [b"code", b"vocabulary", b"percentage"])?;
            if let Some(mut sector) = sector(context, code, vocabulary) {
                sector.percentage = percentage_value(context, percentage);
                activity.sectors.push(sector);
            }
            Kind::Skipped
        }
        b"collaboration-type" => {
            let [code] = read_attributes(context, start, [b"code"])?;
            activity.collaboration_type = checked_code(context, List::CollaborationType, code);
            Kind::Skipped
        }
        b"default-flow-type" => {
            let [code] = read_attributes(context, start, [b"code"])?;
            activity.default_flow_type = checked_code(context, List::FlowType, code);
            Kind::Skipped
        }
        b"default-finance-type" => {
            let [code] = read_attributes(context, start, [b"code"])?;
            activity.default_finance_type = checked_code(context, List::FinanceType, code);
            Kind::Skipped
        }
        b"default-tied-status" => {
            let [code] = read_attributes(context, start, [b"code"])?;
            activity.default_tied_status = checked_code(context, List::TiedStatus, code);
            Kind::Skipped
        }
        b"default-aid-type" => {
            let [code, vocabulary] = read_attributes(context, start, [b"code", b"vocabulary"])?;
            if let Some(aid_type) = aid_type(context, code, vocabulary) {
                activity.default_aid_types.push(aid_type);
            }
            Kind::Skipped
        }
        // A budget and a transaction are pushed now and filled in by their children; whether
        // a `<value>` came is noted so that its absence can be reported at the end tag.
        b"budget" => {
            let [kind, status] = read_attributes(context, start, [b"type", b"status"])?;
            activity.budgets.push(Budget {
                kind: checked_code(context, List::BudgetType, kind),
                status: checked_code(context, List::BudgetStatus, status),
                ..Budget::default()
            });
            scratch.value_seen = false;
            Kind::Budget
        }
        b"transaction" => {
            let [reference, humanitarian] =
                read_attributes(context, start, [b"ref", b"humanitarian"])?;
            activity.transactions.push(Transaction {
                reference: owned_code(reference),
                humanitarian: boolean(context, humanitarian),
                ..Transaction::default()
            });
            scratch.value_seen = false;
            Kind::Transaction
        }
        // A relation without the related identifier says nothing and is left out.
        b"related-activity" => {
            let [reference, kind] = read_attributes(context, start, [b"ref", b"type"])?;
            let kind = checked_code(context, List::RelatedActivityType, kind);
            match owned_code(reference) {
                Some(identifier) => activity
                    .related_activities
                    .push(RelatedActivity { identifier, kind }),
                None => context.warn(
                    "missing-attribute",
                    "the related activity has no @ref and is left out".to_string(),
                ),
            }
            Kind::Skipped
        }
        _ => skip(context, start)?,
    };
    Ok(kind)
}

/// A child of an activity's `<budget>`.
pub(super) fn budget_child(
    context: &mut Context,
    scratch: &mut Scratch,
    budget: &mut Budget,
    name: &[u8],
    start: &BytesStart<'_>,
) -> Result<Kind, Fatal> {
    let kind = match name {
        b"period-start" => {
            let [date] = read_attributes(context, start, [b"iso-date"])?;
            budget.period_start = iso_date(context, date, "iso-date");
            Kind::Skipped
        }
        b"period-end" => {
            let [date] = read_attributes(context, start, [b"iso-date"])?;
            budget.period_end = iso_date(context, date, "iso-date");
            Kind::Skipped
        }
        b"value" => start_value(context, scratch, start, ValueOwner::Budget)?,
        _ => skip(context, start)?,
    };
    Ok(kind)
}

/// A child of `<transaction>`.
pub(super) fn transaction_child(
    context: &mut Context,
    scratch: &mut Scratch,
    transaction: &mut Transaction,
    name: &[u8],
    start: &BytesStart<'_>,
) -> Result<Kind, Fatal> {
    let kind = match name {
        b"transaction-type" => {
            let [code] = read_attributes(context, start, [b"code"])?;
            // A legacy letter is mapped and kept as written; an unknown code is kept only as
            // written, so that no total ever counts a transaction of unknown kind.
            if let Some(written) = owned_code(code) {
                match legacy_transaction_type(&written) {
                    Some(kind) => {
                        transaction.kind = Some(kind.to_string());
                        transaction.kind_as_written = Some(written);
                    }
                    None => {
                        if !context.check_code(List::TransactionType, &written) {
                            transaction.kind_as_written = Some(written);
                        } else {
                            transaction.kind = Some(written);
                        }
                    }
                }
            }
            Kind::Skipped
        }
        b"transaction-date" => {
            let [date] = read_attributes(context, start, [b"iso-date"])?;
            transaction.date = iso_date(context, date, "iso-date");
            Kind::Skipped
        }
        b"value" => start_value(context, scratch, start, ValueOwner::Transaction)?,
        b"description" => {
            let [lang] = read_attributes(context, start, [b"xml:lang"])?;
            scratch.start_holder(lang);
            Kind::Holder(Holder::TransactionDescription)
        }
        b"provider-org" | b"receiver-org" => {
            let activity_attribute: &[u8] = if name == b"provider-org" {
                b"provider-activity-id"
            } else {
                b"receiver-activity-id"
            };
            let [reference, kind, activity_identifier, lang] = read_attributes(
                context,
                start,
                [b"ref", b"type", activity_attribute, b"xml:lang"],
            )?;
            let organisation = Some(OrganisationRef {
                reference: owned_code(reference),
                kind: checked_code(context, List::OrganisationType, kind),
                names: Vec::new(),
                activity_identifier: owned_code(activity_identifier),
            });
            scratch.start_holder(lang);
            if name == b"provider-org" {
                transaction.provider_org = organisation;
                Kind::Holder(Holder::ProviderOrg)
            } else {
                transaction.receiver_org = organisation;
                Kind::Holder(Holder::ReceiverOrg)
            }
        }
        b"flow-type" => {
            let [code] = read_attributes(context, start, [b"code"])?;
            transaction.flow_type = checked_code(context, List::FlowType, code);
            Kind::Skipped
        }
        b"finance-type" => {
            let [code] = read_attributes(context, start, [b"code"])?;
            transaction.finance_type = checked_code(context, List::FinanceType, code);
            Kind::Skipped
        }
        b"tied-status" => {
            let [code] = read_attributes(context, start, [b"code"])?;
            transaction.tied_status = checked_code(context, List::TiedStatus, code);
            Kind::Skipped
        }
        b"aid-type" => {
            let [code, vocabulary] = read_attributes(context, start, [b"code", b"vocabulary"])?;
            if let Some(aid_type) = aid_type(context, code, vocabulary) {
                transaction.aid_types.push(aid_type);
            }
            Kind::Skipped
        }
        b"recipient-country" => {
            let [code] = read_attributes(context, start, [b"code"])?;
            if let Some(code) = country_code(context, code) {
                transaction.recipient_countries.push(code);
            }
            Kind::Skipped
        }
        b"sector" => {
            let [code, vocabulary] = read_attributes(context, start, [b"code", b"vocabulary"])?;
            if let Some(sector) = sector(context, code, vocabulary) {
                transaction.sectors.push(sector);
            }
            Kind::Skipped
        }
        _ => skip(context, start)?,
    };
    Ok(kind)
}

/// A child of `<iati-organisation>`.
pub(super) fn organisation_child(
    context: &mut Context,
    scratch: &mut Scratch,
    organisation: &mut Organisation,
    name: &[u8],
    start: &BytesStart<'_>,
) -> Result<Kind, Fatal> {
    let kind = match name {
        // 1.x organisation files named the identifier `iati-identifier`.
        b"organisation-identifier" | b"iati-identifier" => {
            validate_attributes(context, start)?;
            scratch.text.clear();
            Kind::Identifier
        }
        b"name" => {
            let [lang] = read_attributes(context, start, [b"xml:lang"])?;
            scratch.start_holder(lang);
            Kind::Holder(Holder::OrganisationName)
        }
        b"reporting-org" => {
            let [reference, kind, lang] =
                read_attributes(context, start, [b"ref", b"type", b"xml:lang"])?;
            organisation.reporting_org = Some(OrganisationRef {
                reference: owned_code(reference),
                kind: checked_code(context, List::OrganisationType, kind),
                names: Vec::new(),
                activity_identifier: None,
            });
            scratch.start_holder(lang);
            Kind::Holder(Holder::ReportingOrg)
        }
        // Expenditure lines go apart from budget lines; the element name says which kind of
        // budget line it is.
        b"total-budget"
        | b"recipient-org-budget"
        | b"recipient-country-budget"
        | b"recipient-region-budget"
        | b"total-expenditure" => {
            let [status] = read_attributes(context, start, [b"status"])?;
            let line = if name == b"total-expenditure" {
                OrganisationLine::Expenditure
            } else {
                OrganisationLine::Budget
            };
            let budget = OrganisationBudget {
                element: String::from_utf8_lossy(name).into_owned(),
                status: checked_code(context, List::BudgetStatus, status),
                ..OrganisationBudget::default()
            };
            match line {
                OrganisationLine::Budget => organisation.budgets.push(budget),
                OrganisationLine::Expenditure => organisation.expenditures.push(budget),
            }
            scratch.value_seen = false;
            Kind::OrganisationBudget(line)
        }
        _ => skip(context, start)?,
    };
    Ok(kind)
}

/// A child of a budget or expenditure line of an organisation.
pub(super) fn organisation_budget_child(
    context: &mut Context,
    scratch: &mut Scratch,
    budget: &mut OrganisationBudget,
    line: OrganisationLine,
    name: &[u8],
    start: &BytesStart<'_>,
) -> Result<Kind, Fatal> {
    let kind = match name {
        b"period-start" => {
            let [date] = read_attributes(context, start, [b"iso-date"])?;
            budget.period_start = iso_date(context, date, "iso-date");
            Kind::Skipped
        }
        b"period-end" => {
            let [date] = read_attributes(context, start, [b"iso-date"])?;
            budget.period_end = iso_date(context, date, "iso-date");
            Kind::Skipped
        }
        b"value" => start_value(
            context,
            scratch,
            start,
            ValueOwner::OrganisationBudget(line),
        )?,
        // The recipient of a line is its one defining code, whichever kind of line it is.
        b"recipient-org" => {
            let [reference] = read_attributes(context, start, [b"ref"])?;
            budget.recipient = owned_code(reference);
            Kind::Skipped
        }
        b"recipient-country" => {
            let [code] = read_attributes(context, start, [b"code"])?;
            budget.recipient = country_code(context, code);
            Kind::Skipped
        }
        b"recipient-region" => {
            let [code, vocabulary] = read_attributes(context, start, [b"code", b"vocabulary"])?;
            let code = owned_code(code);
            if let Some(code) = &code {
                if matches!(owned_code(vocabulary).as_deref(), None | Some("1")) {
                    context.check_code(List::Region, code);
                }
            }
            budget.recipient = code;
            Kind::Skipped
        }
        _ => skip(context, start)?,
    };
    Ok(kind)
}

/// A `<value>`: its attributes now, its amount at the end tag, when the text is complete.
fn start_value(
    context: &mut Context,
    scratch: &mut Scratch,
    start: &BytesStart<'_>,
    owner: ValueOwner,
) -> Result<Kind, Fatal> {
    let [currency, value_date] = read_attributes(context, start, [b"currency", b"value-date"])?;
    scratch.value_currency = currency_code(context, currency);
    scratch.value_date = iso_date(context, value_date, "value-date");
    scratch.value_seen = true;
    scratch.text.clear();
    Ok(Kind::Value(owner))
}

/// An element the model does not cover: its attributes are still checked, so that a document
/// that is not well-formed is refused wherever the fault lies.
pub(super) fn skip(context: &mut Context, start: &BytesStart<'_>) -> Result<Kind, Fatal> {
    validate_attributes(context, start)?;
    Ok(Kind::Skipped)
}

/// Check every attribute of a tag, keeping none.
fn validate_attributes(context: &mut Context, start: &BytesStart<'_>) -> Result<(), Fatal> {
    read_attributes(context, start, [])?;
    Ok(())
}

/// The values of the `wanted` attributes, decoded; every attribute is checked on the way.
pub(super) fn read_attributes<'e, const N: usize>(
    context: &mut Context,
    start: &'e BytesStart<'_>,
    wanted: [&[u8]; N],
) -> Result<[Option<Cow<'e, str>>; N], Fatal> {
    let mut values: [Option<Cow<'e, str>>; N] = std::array::from_fn(|_| None);
    // Positions count from the `<` of the tag; the attributes follow the name.
    let attributes_offset = context.top_offset() + 1 + start.name().as_ref().len() as u64;
    // Duplicates are found among the names seen so far, kept on the stack for the handful of
    // attributes IATI elements have.
    let mut keys: [&[u8]; 16] = [&[]; 16];
    let mut key_count = 0;
    let mut more_keys: Vec<&[u8]> = Vec::new();
    for attribute in AttributeScanner::new(start.attributes_raw()) {
        let attribute = attribute.map_err(|fault| {
            Fatal::new(
                "not-well-formed",
                format!("the document is not well-formed XML: {}", fault.problem),
                attributes_offset + fault.position as u64,
            )
        })?;
        let key = attribute.key;
        if keys[..key_count].contains(&key) || more_keys.contains(&key) {
            return Err(context.not_well_formed(format!(
                "the attribute {} is given twice",
                String::from_utf8_lossy(key)
            )));
        }
        if key_count < keys.len() {
            keys[key_count] = key;
            key_count += 1;
        } else {
            more_keys.push(key);
        }
        let value_offset = attributes_offset + attribute.value_start as u64;
        match wanted.iter().position(|wanted_key| *wanted_key == key) {
            Some(index) if attribute.plain => {
                values[index] = Some(String::from_utf8_lossy(attribute.value))
            }
            Some(index) => {
                values[index] = Some(decode_attribute(context, attribute.value, value_offset)?)
            }
            None if attribute.plain => {}
            None => check_escapes(attribute.value, value_offset)?,
        }
    }
    Ok(values)
}

pub(super) const INVALID_UTF8: &str = "the text is not valid UTF-8; the bad bytes were replaced";

/// An attribute value as text: invalid UTF-8 is replaced and reported, references expanded.
fn decode_attribute<'e>(
    context: &mut Context,
    raw: &'e [u8],
    value_offset: u64,
) -> Result<Cow<'e, str>, Fatal> {
    let decoded: Cow<'e, str> = match std::str::from_utf8(raw) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => {
            context.warn("invalid-utf8", INVALID_UTF8.to_string());
            Cow::Owned(String::from_utf8_lossy(raw).into_owned())
        }
    };
    if !decoded.contains('&') {
        return Ok(decoded);
    }
    let unescaped = quick_xml::escape::unescape(&decoded)
        .map_err(|error| escape_fatal(error, value_offset))?
        .into_owned();
    Ok(Cow::Owned(unescaped))
}

/// Append escaped text to `target`, expanding references.
pub(super) fn append_text(
    context: &mut Context,
    target: &mut String,
    raw: &[u8],
    text_start: u64,
) -> Result<(), Fatal> {
    let text = match std::str::from_utf8(raw) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => {
            context.warn("invalid-utf8", INVALID_UTF8.to_string());
            String::from_utf8_lossy(raw)
        }
    };
    if memchr::memchr(b'&', text.as_bytes()).is_none() {
        target.push_str(&text);
        return Ok(());
    }
    let unescaped =
        quick_xml::escape::unescape(&text).map_err(|error| escape_fatal(error, text_start))?;
    target.push_str(&unescaped);
    Ok(())
}

/// Check the references of text that is not kept: an undeclared entity anywhere makes the
/// document not well-formed.
pub(super) fn check_escapes(raw: &[u8], offset: u64) -> Result<(), Fatal> {
    if memchr::memchr(b'&', raw).is_none() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(raw);
    quick_xml::escape::unescape(&text).map_err(|error| escape_fatal(error, offset))?;
    Ok(())
}

/// A reference that cannot be expanded, located from the start of the text it is in.
fn escape_fatal(error: EscapeError, offset: u64) -> Fatal {
    match error {
        // The range starts after the `&`; the diagnostic points at the `&`.
        EscapeError::UnrecognizedEntity(range, name) => Fatal::new(
            "undeclared-entity",
            format!(
                "the entity &{name}; is not declared (only &lt; &gt; &amp; &apos; &quot; and \
                 character references are), so the document is not well-formed XML"
            ),
            offset + (range.start as u64).saturating_sub(1),
        ),
        EscapeError::UnterminatedEntity(range) => Fatal::new(
            "not-well-formed",
            "the document is not well-formed XML: an `&` starts no reference (write `&amp;`)",
            offset + range.start as u64,
        ),
        other => Fatal::new(
            "not-well-formed",
            format!("the document is not well-formed XML: {other}"),
            offset,
        ),
    }
}

/// A code as stored: trimmed, `None` when absent or empty.
pub(super) fn owned_code(value: Option<Cow<'_, str>>) -> Option<String> {
    // An empty attribute is treated as an absent one: `code=""` gives nothing to store.
    let value = value?;
    let trimmed = value.trim();
    if trimmed.is_empty() {
        None
    } else if trimmed.len() == value.len() {
        Some(value.into_owned())
    } else {
        Some(trimmed.to_string())
    }
}

/// A code checked against a codelist; an unknown code is reported and kept.
fn checked_code(context: &mut Context, list: List, value: Option<Cow<'_, str>>) -> Option<String> {
    let code = owned_code(value)?;
    context.check_code(list, &code);
    Some(code)
}

/// A currency, upper-cased: "usd" is a common slip that should not lose the value.
pub(super) fn currency_code(context: &mut Context, value: Option<Cow<'_, str>>) -> Option<String> {
    let mut code = owned_code(value)?;
    code.make_ascii_uppercase();
    context.check_code(List::Currency, &code);
    Some(code)
}

/// A country, upper-cased as ISO 3166 writes it; a missing code is reported.
fn country_code(context: &mut Context, value: Option<Cow<'_, str>>) -> Option<String> {
    let Some(mut code) = owned_code(value) else {
        missing_code(context, "recipient country");
        return None;
    };
    code.make_ascii_uppercase();
    context.check_code(List::Country, &code);
    Some(code)
}

/// Report an element left out for want of its code.
fn missing_code(context: &mut Context, what: &str) {
    context.warn(
        "missing-attribute",
        format!("the {what} has no @code and is left out"),
    );
}

/// A sector checked against the codelist of its vocabulary: DAC 5-digit codes (1, the
/// default) or DAC 3-digit categories (2); other vocabularies have no bundled list.
fn sector(
    context: &mut Context,
    code: Option<Cow<'_, str>>,
    vocabulary: Option<Cow<'_, str>>,
) -> Option<Sector> {
    let vocabulary = owned_code(vocabulary);
    let Some(code) = owned_code(code) else {
        missing_code(context, "sector");
        return None;
    };
    match vocabulary.as_deref() {
        None | Some("1") => {
            context.check_code(List::Sector, &code);
        }
        Some("2") => {
            context.check_code(List::SectorCategory, &code);
        }
        _ => {}
    }
    Some(Sector {
        code,
        vocabulary,
        percentage: None,
    })
}

/// An aid type, checked when it is of the OECD DAC vocabulary (1, the default).
fn aid_type(
    context: &mut Context,
    code: Option<Cow<'_, str>>,
    vocabulary: Option<Cow<'_, str>>,
) -> Option<AidType> {
    let vocabulary = owned_code(vocabulary);
    let Some(code) = owned_code(code) else {
        missing_code(context, "aid type");
        return None;
    };
    if matches!(vocabulary.as_deref(), None | Some("1")) {
        context.check_code(List::AidType, &code);
    }
    Some(AidType { code, vocabulary })
}

/// A percentage as an exact decimal; one that is not a number or beyond 0..=100 is reported
/// and left out rather than clamped.
fn percentage_value(context: &mut Context, value: Option<Cow<'_, str>>) -> Option<Decimal> {
    let text = owned_code(value)?;
    match value::parse_percentage(&text) {
        Ok(percentage) => Some(percentage),
        Err(error) => {
            context.warn("bad-percentage", format!("@percentage: {error}"));
            None
        }
    }
}

/// A date normalised to `YYYY-MM-DD`; one that cannot be read is reported and left out.
fn iso_date(context: &mut Context, value: Option<Cow<'_, str>>, attribute: &str) -> Option<String> {
    let text = owned_code(value)?;
    match value::parse_iso_date(&text) {
        Ok(date) => Some(date),
        Err(error) => {
            context.warn("bad-date", format!("@{attribute}: {error}"));
            None
        }
    }
}

/// An `xsd:boolean`, which IATI files write both as 1/0 and as true/false.
pub(super) fn boolean(context: &mut Context, value: Option<Cow<'_, str>>) -> Option<bool> {
    let text = owned_code(value)?;
    match text.as_str() {
        "1" | "true" => Some(true),
        "0" | "false" => Some(false),
        _ => {
            context.warn(
                "not-a-boolean",
                format!("'{text}' is not a boolean (1, 0, true or false)"),
            );
            None
        }
    }
}

/// The 2.0x TransactionType code of a 1.x letter code, if it is one.
fn legacy_transaction_type(written: &str) -> Option<&'static str> {
    const LETTERS: [(&str, &str); 10] = [
        ("IF", "1"),
        ("C", "2"),
        ("D", "3"),
        ("E", "4"),
        ("IR", "5"),
        ("LR", "6"),
        ("R", "7"),
        ("QP", "8"),
        ("QS", "9"),
        ("CG", "10"),
    ];
    LETTERS
        .iter()
        .find(|(letters, _)| letters.eq_ignore_ascii_case(written))
        .map(|(_, code)| *code)
}

/// 1.x files name participating-org roles in words; 2.0x uses their codes.
fn legacy_organisation_role(role: String) -> String {
    let code = match role.to_ascii_lowercase().as_str() {
        "funding" => "1",
        "accountable" => "2",
        "extending" => "3",
        "implementing" => "4",
        _ => return role,
    };
    code.to_string()
}

/// 1.x files name activity-date types in words; 2.0x uses their codes.
fn legacy_activity_date_type(kind: String) -> String {
    let code = match kind.to_ascii_lowercase().as_str() {
        "start-planned" => "1",
        "start-actual" => "2",
        "end-planned" => "3",
        "end-actual" => "4",
        _ => return kind,
    };
    code.to_string()
}
