//! The streaming IATI 2.03 writer: activity and organisation files over any `io::Write`.
//!
//! An [`IatiWriter`] writes the root element once, then one record at a time, so that an export
//! holds no more than one activity in memory whatever the size of the portfolio. An activity is
//! written either from the [`model`](crate::model), with its elements in the order the 2.03
//! schema requires, or "raw": the exact bytes of an `<iati-activity>` element that the importer
//! kept, so that an activity published elsewhere leaves exactly as it came in. Every text and
//! attribute value written from the model goes through quick-xml's escaping, and characters
//! that XML 1.0 cannot carry at all are dropped, so no value can break out of its element.
//!
//! The model is the reader's [`Activity`] rather than a type of the store's own: the same type
//! then goes in and out, and writing an activity and reading it back gives the activity again,
//! which the tests check field by field.

mod raw;

use std::io::Write;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::model::{
    Activity, Narrative, Organisation, OrganisationBudget, OrganisationRef, Transaction, Value,
};

/// The IATI version every file this writer makes declares.
pub const IATI_VERSION: &str = "2.03";

/// What can go wrong while writing.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("writing the IATI file")]
    Io(#[from] std::io::Error),
    #[error("the kept XML of an activity is not one <iati-activity> element: {reason}")]
    NotAnActivityElement { reason: &'static str },
    #[error("an activity cannot go into an organisation file, nor an organisation into an activity file")]
    WrongDocument,
}

impl From<quick_xml::Error> for WriteError {
    fn from(error: quick_xml::Error) -> Self {
        match error {
            quick_xml::Error::Io(io) => WriteError::Io(std::io::Error::new(io.kind(), io)),
            other => WriteError::Io(std::io::Error::other(other)),
        }
    }
}

/// Which root the file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Activities,
    Organisations,
}

/// Parts of a record that the model held but the schema does not let the writer express, left
/// out so that the file stays valid (a transaction without a date, say).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Omissions {
    pub parts: Vec<&'static str>,
}

impl Omissions {
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }
}

/// Writes one IATI 2.03 document, record by record.
pub struct IatiWriter<W: Write> {
    xml: quick_xml::Writer<W>,
    kind: DocumentKind,
}

impl<W: Write> IatiWriter<W> {
    /// Starts an `<iati-activities>` file. `generated_datetime` is an xsd:dateTime such as
    /// `2024-05-01T12:00:00Z`; the writer reads no clock, so that its output is reproducible.
    pub fn activities(out: W, generated_datetime: &str) -> Result<Self, WriteError> {
        Self::start(out, DocumentKind::Activities, generated_datetime)
    }

    /// Starts an `<iati-organisations>` file.
    pub fn organisations(out: W, generated_datetime: &str) -> Result<Self, WriteError> {
        Self::start(out, DocumentKind::Organisations, generated_datetime)
    }

    fn start(out: W, kind: DocumentKind, generated_datetime: &str) -> Result<Self, WriteError> {
        let mut xml = quick_xml::Writer::new_with_indent(out, b' ', 1);
        xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        let mut root = BytesStart::new(root_name(kind));
        root.push_attribute(("version", IATI_VERSION));
        root.push_attribute(("generated-datetime", clean(generated_datetime).as_ref()));
        xml.write_event(Event::Start(root))?;
        Ok(IatiWriter { xml, kind })
    }

    /// Writes an activity from the model, in the schema's element order. Parts the schema
    /// requires but the activity lacks are not invented: the parts that could not be written
    /// validly are left out and named in the result.
    pub fn write_activity(&mut self, activity: &Activity) -> Result<Omissions, WriteError> {
        if self.kind != DocumentKind::Activities {
            return Err(WriteError::WrongDocument);
        }
        let mut omissions = Omissions::default();
        ActivityWriter {
            xml: &mut self.xml,
            activity,
            omissions: &mut omissions,
        }
        .write()?;
        Ok(omissions)
    }

    /// Writes the kept bytes of one `<iati-activity>` element as they are. Namespace prefixes
    /// that the element uses but that were declared on its original root are declared on the
    /// element itself, the one change made, so that the output is namespace-well-formed.
    pub fn write_raw_activity(&mut self, raw_xml: &[u8]) -> Result<(), WriteError> {
        if self.kind != DocumentKind::Activities {
            return Err(WriteError::WrongDocument);
        }
        let element = raw::prepare(raw_xml)?;
        // quick-xml indents before the next event; the raw element starts on a line of its own.
        let out = self.xml.get_mut();
        out.write_all(b"\n ")?;
        out.write_all(&element)?;
        Ok(())
    }

    /// Writes an organisation record: identifier, name, reporting organisation, then budgets
    /// and expenditures in the schema's order.
    pub fn write_organisation(
        &mut self,
        organisation: &Organisation,
    ) -> Result<Omissions, WriteError> {
        if self.kind != DocumentKind::Organisations {
            return Err(WriteError::WrongDocument);
        }
        let mut omissions = Omissions::default();
        write_organisation(&mut self.xml, organisation, &mut omissions)?;
        Ok(omissions)
    }

    /// Writes an XML comment at this point of the file, such as the note at the top of a
    /// download that says how it was made. A comment cannot hold `--` nor end with `-`, so
    /// such runs are spaced out; characters XML cannot carry are dropped.
    pub fn write_comment(&mut self, text: &str) -> Result<(), WriteError> {
        let mut safe = clean(text).replace("--", "- -").replace("--", "- -");
        if safe.ends_with('-') {
            safe.push(' ');
        }
        self.xml
            .write_event(Event::Comment(BytesText::from_escaped(format!(" {safe} "))))?;
        Ok(())
    }

    /// The output written so far, so that a streamed file can hand on what is ready (taking a
    /// `Vec<u8>`'s bytes, say) between records.
    pub fn get_mut(&mut self) -> &mut W {
        self.xml.get_mut()
    }

    /// Closes the root element and returns the output, flushed.
    pub fn finish(mut self) -> Result<W, WriteError> {
        self.xml
            .write_event(Event::End(BytesEnd::new(root_name(self.kind))))?;
        let mut out = self.xml.into_inner();
        out.write_all(b"\n")?;
        out.flush()?;
        Ok(out)
    }
}

fn root_name(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::Activities => "iati-activities",
        DocumentKind::Organisations => "iati-organisations",
    }
}

/// Drops the characters XML 1.0 cannot hold at all (most C0 controls, lone surrogates cannot
/// occur in a `str`, U+FFFE and U+FFFF); escaping is quick-xml's, applied when the text is
/// written. Text without such characters is borrowed, not copied.
fn clean(text: &str) -> std::borrow::Cow<'_, str> {
    let allowed = |character: char| {
        matches!(character, '\t' | '\n' | '\r')
            || (character >= ' ' && character != '\u{FFFE}' && character != '\u{FFFF}')
    };
    if text.chars().all(allowed) {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(text.chars().filter(|&c| allowed(c)).collect())
    }
}

/// An element with its attributes (those whose value is `None` are left out).
fn start<'a>(name: &'a str, attributes: &[(&str, Option<&str>)]) -> BytesStart<'a> {
    let mut element = BytesStart::new(name);
    for (key, value) in attributes {
        if let Some(value) = value {
            element.push_attribute((*key, clean(value).as_ref()));
        }
    }
    element
}

fn empty<W: Write>(
    xml: &mut quick_xml::Writer<W>,
    name: &str,
    attributes: &[(&str, Option<&str>)],
) -> Result<(), WriteError> {
    xml.write_event(Event::Empty(start(name, attributes)))?;
    Ok(())
}

fn text_element<W: Write>(
    xml: &mut quick_xml::Writer<W>,
    name: &str,
    attributes: &[(&str, Option<&str>)],
    text: &str,
) -> Result<(), WriteError> {
    xml.write_event(Event::Start(start(name, attributes)))?;
    xml.write_event(Event::Text(BytesText::new(&clean(text))))?;
    xml.write_event(Event::End(BytesEnd::new(name)))?;
    Ok(())
}

/// An element holding narratives. A narrative's language is written only when it differs from
/// the record's default, which is how the reader resolved it in the first place.
fn narratives_element<W: Write>(
    xml: &mut quick_xml::Writer<W>,
    name: &str,
    attributes: &[(&str, Option<&str>)],
    narratives: &[Narrative],
    default_lang: Option<&str>,
) -> Result<(), WriteError> {
    if narratives.is_empty() {
        return empty(xml, name, attributes);
    }
    xml.write_event(Event::Start(start(name, attributes)))?;
    for narrative in narratives {
        let lang = narrative
            .lang
            .as_deref()
            .filter(|lang| Some(*lang) != default_lang);
        text_element(xml, "narrative", &[("xml:lang", lang)], &narrative.text)?;
    }
    xml.write_event(Event::End(BytesEnd::new(name)))?;
    Ok(())
}

/// `<value>`: the currency is written when it differs from the record's default; the schema
/// requires `@value-date`, so a value without one takes `fallback_date` (the transaction's date
/// or the period's start, the dates IATI's guidance says a value date usually is).
fn value_element<W: Write>(
    xml: &mut quick_xml::Writer<W>,
    value: &Value,
    default_currency: Option<&str>,
    fallback_date: &str,
) -> Result<(), WriteError> {
    let currency = value
        .currency
        .as_deref()
        .filter(|currency| Some(*currency) != default_currency);
    let value_date = value.value_date.as_deref().unwrap_or(fallback_date);
    text_element(
        xml,
        "value",
        &[("currency", currency), ("value-date", Some(value_date))],
        &value.amount.to_string(),
    )
}

fn boolean(value: Option<bool>) -> Option<&'static str> {
    value.map(|value| if value { "1" } else { "0" })
}

struct ActivityWriter<'w, 'a, W: Write> {
    xml: &'w mut quick_xml::Writer<W>,
    activity: &'a Activity,
    omissions: &'w mut Omissions,
}

impl<W: Write> ActivityWriter<'_, '_, W> {
    fn write(mut self) -> Result<(), WriteError> {
        let activity = self.activity;
        let hierarchy = activity.hierarchy.map(|hierarchy| hierarchy.to_string());
        self.xml.write_event(Event::Start(start(
            "iati-activity",
            &[
                ("last-updated-datetime", activity.last_updated.as_deref()),
                ("xml:lang", activity.default_lang.as_deref()),
                ("default-currency", activity.default_currency.as_deref()),
                ("humanitarian", boolean(activity.humanitarian)),
                ("hierarchy", hierarchy.as_deref()),
            ],
        )))?;
        let lang = activity.default_lang.as_deref();
        text_element(self.xml, "iati-identifier", &[], &activity.identifier)?;
        match &activity.reporting_org {
            Some(reporting_org) => {
                self.organisation_ref("reporting-org", reporting_org, None)?;
            }
            None => self.omissions.parts.push("reporting-org (none recorded)"),
        }
        narratives_element(self.xml, "title", &[], &activity.titles, lang)?;
        for description in &activity.descriptions {
            if description.narratives.is_empty() {
                self.omissions.parts.push("description without text");
                continue;
            }
            narratives_element(
                self.xml,
                "description",
                &[("type", description.kind.as_deref())],
                &description.narratives,
                lang,
            )?;
        }
        for org in &activity.participating_orgs {
            let Some(role) = org.role.as_deref() else {
                self.omissions
                    .parts
                    .push("participating-org without a role");
                continue;
            };
            narratives_element(
                self.xml,
                "participating-org",
                &[
                    ("ref", org.reference.as_deref()),
                    ("type", org.kind.as_deref()),
                    ("role", Some(role)),
                    ("activity-id", org.activity_identifier.as_deref()),
                    ("crs-channel-code", org.crs_channel_code.as_deref()),
                ],
                &org.names,
                lang,
            )?;
        }
        match activity.status.as_deref() {
            Some(status) => empty(self.xml, "activity-status", &[("code", Some(status))])?,
            None => self.omissions.parts.push("activity-status (none recorded)"),
        }
        for date in &activity.dates {
            empty(
                self.xml,
                "activity-date",
                &[("type", Some(&date.kind)), ("iso-date", Some(&date.date))],
            )?;
        }
        for country in &activity.recipient_countries {
            let percentage = country.percentage.map(|p| p.to_string());
            empty(
                self.xml,
                "recipient-country",
                &[
                    ("code", Some(&country.code)),
                    ("percentage", percentage.as_deref()),
                ],
            )?;
        }
        for region in &activity.recipient_regions {
            let percentage = region.percentage.map(|p| p.to_string());
            empty(
                self.xml,
                "recipient-region",
                &[
                    ("code", Some(&region.code)),
                    ("vocabulary", region.vocabulary.as_deref()),
                    ("percentage", percentage.as_deref()),
                ],
            )?;
        }
        for sector in &activity.sectors {
            let percentage = sector.percentage.map(|p| p.to_string());
            empty(
                self.xml,
                "sector",
                &[
                    ("vocabulary", sector.vocabulary.as_deref()),
                    ("code", Some(&sector.code)),
                    ("percentage", percentage.as_deref()),
                ],
            )?;
        }
        let code_elements = [
            ("collaboration-type", &activity.collaboration_type),
            ("default-flow-type", &activity.default_flow_type),
            ("default-finance-type", &activity.default_finance_type),
        ];
        for (name, code) in code_elements {
            if let Some(code) = code {
                empty(self.xml, name, &[("code", Some(code))])?;
            }
        }
        for aid_type in &activity.default_aid_types {
            empty(
                self.xml,
                "default-aid-type",
                &[
                    ("code", Some(&aid_type.code)),
                    ("vocabulary", aid_type.vocabulary.as_deref()),
                ],
            )?;
        }
        if let Some(code) = &activity.default_tied_status {
            empty(self.xml, "default-tied-status", &[("code", Some(code))])?;
        }
        for budget in &activity.budgets {
            let (Some(period_start), Some(period_end), Some(value)) =
                (&budget.period_start, &budget.period_end, &budget.value)
            else {
                self.omissions
                    .parts
                    .push("budget without a period or a value");
                continue;
            };
            self.xml.write_event(Event::Start(start(
                "budget",
                &[
                    ("type", budget.kind.as_deref()),
                    ("status", budget.status.as_deref()),
                ],
            )))?;
            empty(
                self.xml,
                "period-start",
                &[("iso-date", Some(period_start))],
            )?;
            empty(self.xml, "period-end", &[("iso-date", Some(period_end))])?;
            value_element(
                self.xml,
                value,
                activity.default_currency.as_deref(),
                period_start,
            )?;
            self.xml.write_event(Event::End(BytesEnd::new("budget")))?;
        }
        for transaction in &activity.transactions {
            self.transaction(transaction)?;
        }
        for related in &activity.related_activities {
            empty(
                self.xml,
                "related-activity",
                &[
                    ("ref", Some(&related.identifier)),
                    ("type", related.kind.as_deref()),
                ],
            )?;
        }
        self.xml
            .write_event(Event::End(BytesEnd::new("iati-activity")))?;
        Ok(())
    }

    /// `reporting-org`, `provider-org` or `receiver-org`; `activity_attribute` names the
    /// attribute that carries the organisation's activity identifier, where the element has one.
    fn organisation_ref(
        &mut self,
        name: &str,
        organisation: &OrganisationRef,
        activity_attribute: Option<&str>,
    ) -> Result<(), WriteError> {
        let mut attributes = vec![
            ("ref", organisation.reference.as_deref()),
            ("type", organisation.kind.as_deref()),
        ];
        if let Some(attribute) = activity_attribute {
            attributes.push((attribute, organisation.activity_identifier.as_deref()));
        }
        narratives_element(
            self.xml,
            name,
            &attributes,
            &organisation.names,
            self.activity.default_lang.as_deref(),
        )
    }

    fn transaction(&mut self, transaction: &Transaction) -> Result<(), WriteError> {
        let (Some(kind), Some(date), Some(value)) =
            (&transaction.kind, &transaction.date, &transaction.value)
        else {
            self.omissions
                .parts
                .push("transaction without a type, a date or a value");
            return Ok(());
        };
        let lang = self.activity.default_lang.as_deref();
        self.xml.write_event(Event::Start(start(
            "transaction",
            &[
                ("ref", transaction.reference.as_deref()),
                ("humanitarian", boolean(transaction.humanitarian)),
            ],
        )))?;
        empty(self.xml, "transaction-type", &[("code", Some(kind))])?;
        empty(self.xml, "transaction-date", &[("iso-date", Some(date))])?;
        value_element(
            self.xml,
            value,
            self.activity.default_currency.as_deref(),
            date,
        )?;
        if !transaction.description.is_empty() {
            narratives_element(self.xml, "description", &[], &transaction.description, lang)?;
        }
        if let Some(provider) = &transaction.provider_org {
            self.organisation_ref("provider-org", provider, Some("provider-activity-id"))?;
        }
        if let Some(receiver) = &transaction.receiver_org {
            self.organisation_ref("receiver-org", receiver, Some("receiver-activity-id"))?;
        }
        for sector in &transaction.sectors {
            empty(
                self.xml,
                "sector",
                &[
                    ("vocabulary", sector.vocabulary.as_deref()),
                    ("code", Some(&sector.code)),
                ],
            )?;
        }
        // The schema allows one recipient country per transaction.
        if let Some(country) = transaction.recipient_countries.first() {
            empty(self.xml, "recipient-country", &[("code", Some(country))])?;
        }
        if transaction.recipient_countries.len() > 1 {
            self.omissions
                .parts
                .push("a transaction's second and later recipient countries");
        }
        let codes = [
            ("flow-type", &transaction.flow_type),
            ("finance-type", &transaction.finance_type),
        ];
        for (name, code) in codes {
            if let Some(code) = code {
                empty(self.xml, name, &[("code", Some(code))])?;
            }
        }
        for aid_type in &transaction.aid_types {
            empty(
                self.xml,
                "aid-type",
                &[
                    ("code", Some(&aid_type.code)),
                    ("vocabulary", aid_type.vocabulary.as_deref()),
                ],
            )?;
        }
        if let Some(code) = &transaction.tied_status {
            empty(self.xml, "tied-status", &[("code", Some(code))])?;
        }
        self.xml
            .write_event(Event::End(BytesEnd::new("transaction")))?;
        Ok(())
    }
}

/// The order of an organisation's budget elements in the 2.03 schema.
const ORGANISATION_BUDGET_ORDER: [&str; 5] = [
    "total-budget",
    "recipient-org-budget",
    "recipient-region-budget",
    "recipient-country-budget",
    "total-expenditure",
];

fn write_organisation<W: Write>(
    xml: &mut quick_xml::Writer<W>,
    organisation: &Organisation,
    omissions: &mut Omissions,
) -> Result<(), WriteError> {
    let lang = organisation.default_lang.as_deref();
    xml.write_event(Event::Start(start(
        "iati-organisation",
        &[
            (
                "last-updated-datetime",
                organisation.last_updated.as_deref(),
            ),
            ("xml:lang", lang),
            ("default-currency", organisation.default_currency.as_deref()),
        ],
    )))?;
    text_element(
        xml,
        "organisation-identifier",
        &[],
        &organisation.identifier,
    )?;
    narratives_element(xml, "name", &[], &organisation.names, lang)?;
    match &organisation.reporting_org {
        Some(reporting_org) => narratives_element(
            xml,
            "reporting-org",
            &[
                ("ref", reporting_org.reference.as_deref()),
                ("type", reporting_org.kind.as_deref()),
            ],
            &reporting_org.names,
            lang,
        )?,
        None => omissions.parts.push("reporting-org (none recorded)"),
    }
    let lines = organisation
        .budgets
        .iter()
        .chain(&organisation.expenditures)
        .collect::<Vec<_>>();
    for element in ORGANISATION_BUDGET_ORDER {
        for line in lines.iter().filter(|line| line.element == element) {
            organisation_budget(xml, line, organisation, omissions)?;
        }
    }
    for line in &lines {
        if !ORGANISATION_BUDGET_ORDER.contains(&line.element.as_str()) {
            omissions.parts.push("a budget line of an unknown kind");
        }
    }
    xml.write_event(Event::End(BytesEnd::new("iati-organisation")))?;
    Ok(())
}

fn organisation_budget<W: Write>(
    xml: &mut quick_xml::Writer<W>,
    line: &OrganisationBudget,
    organisation: &Organisation,
    omissions: &mut Omissions,
) -> Result<(), WriteError> {
    let (Some(period_start), Some(period_end), Some(value)) =
        (&line.period_start, &line.period_end, &line.value)
    else {
        omissions
            .parts
            .push("a budget or expenditure without a period or a value");
        return Ok(());
    };
    let element = line.element.as_str();
    // Expenditures carry no status in the schema.
    let status = if element == "total-expenditure" {
        None
    } else {
        line.status.as_deref()
    };
    xml.write_event(Event::Start(start(element, &[("status", status)])))?;
    let recipient = line.recipient.as_deref();
    match (element, recipient) {
        ("recipient-org-budget", Some(reference)) => {
            empty(xml, "recipient-org", &[("ref", Some(reference))])?
        }
        ("recipient-region-budget", Some(code)) => {
            empty(xml, "recipient-region", &[("code", Some(code))])?
        }
        ("recipient-country-budget", Some(code)) => {
            empty(xml, "recipient-country", &[("code", Some(code))])?
        }
        _ => {}
    }
    empty(xml, "period-start", &[("iso-date", Some(period_start))])?;
    empty(xml, "period-end", &[("iso-date", Some(period_end))])?;
    value_element(
        xml,
        value,
        organisation.default_currency.as_deref(),
        period_start,
    )?;
    xml.write_event(Event::End(BytesEnd::new(element)))?;
    Ok(())
}

#[cfg(test)]
mod tests;
