//! A compact text rendering of what the reader returns, for snapshot tests.
//!
//! Only what is set is shown, one part of a record per line, so that a snapshot reads like a
//! description of the document.

use std::fmt::Write;
use std::sync::Arc;

use coopfolio_core::codelists::Codelists;
use coopfolio_iati::model::{
    Activity, Narrative, Organisation, OrganisationBudget, OrganisationRef, Sector, Value,
};
use coopfolio_iati::{read_all, Diagnostic, IatiReader, Limits, Record, Severity};

/// Read `xml` and render its records and diagnostics.
pub fn read_and_render(xml: &str) -> String {
    let (records, diagnostics, fatal) = read_all(xml.as_bytes(), "test.xml", Codelists::bundled());
    render_outcome(&records, &diagnostics, fatal.as_ref())
}

/// Read `xml` with other limits and render its records and diagnostics.
pub fn read_and_render_with_limits(xml: &[u8], limits: Limits) -> String {
    let mut reader = IatiReader::new(xml, "test.xml", Codelists::bundled()).with_limits(limits);
    let mut records = Vec::new();
    let mut diagnostics = Vec::new();
    let fatal = loop {
        match reader.next_record(&mut diagnostics) {
            Ok(Some(record)) => records.push(record),
            Ok(None) => break None,
            Err(fatal) => break Some(fatal),
        }
    };
    render_outcome(&records, &diagnostics, fatal.as_ref())
}

/// The codelists the tests read with.
#[allow(dead_code)]
pub fn codelists() -> Arc<Codelists> {
    Codelists::bundled()
}

pub fn render_outcome(
    records: &[Record],
    diagnostics: &[Diagnostic],
    fatal: Option<&Diagnostic>,
) -> String {
    let mut out = String::new();
    for record in records {
        match record {
            Record::Activity(activity) => render_activity(&mut out, activity),
            Record::Organisation(organisation) => render_organisation(&mut out, organisation),
        }
    }
    for diagnostic in diagnostics.iter().chain(fatal) {
        out.push_str(&render_diagnostic(diagnostic));
        out.push('\n');
    }
    out
}

pub fn render_diagnostic(diagnostic: &Diagnostic) -> String {
    let severity = match diagnostic.severity {
        Severity::Fatal => "fatal",
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut line = format!(
        "{severity}[{}] {}:{} {}: {}",
        diagnostic.code, diagnostic.line, diagnostic.column, diagnostic.path, diagnostic.message
    );
    if let Some(record) = &diagnostic.record {
        let _ = write!(line, " (in {record})");
    }
    line
}

fn render_activity(out: &mut String, activity: &Activity) {
    let _ = writeln!(
        out,
        "activity {} at {}:{}, {} faults, {} bytes",
        activity.identifier,
        activity.line,
        activity.column,
        activity.faults,
        activity.raw_xml.len()
    );
    let mut attributes = String::new();
    field(
        &mut attributes,
        "default-currency",
        &activity.default_currency,
    );
    field(&mut attributes, "lang", &activity.default_lang);
    field(&mut attributes, "last-updated", &activity.last_updated);
    field(&mut attributes, "hierarchy", &activity.hierarchy);
    field(&mut attributes, "humanitarian", &activity.humanitarian);
    if !attributes.is_empty() {
        let _ = writeln!(out, "  attributes:{attributes}");
    }
    if let Some(organisation) = &activity.reporting_org {
        let _ = writeln!(out, "  reporting-org{}", organisation_ref(organisation));
    }
    if !activity.titles.is_empty() {
        let _ = writeln!(out, "  title {}", narratives(&activity.titles));
    }
    for description in &activity.descriptions {
        let mut line = String::new();
        field(&mut line, "type", &description.kind);
        let _ = writeln!(
            out,
            "  description{line} {}",
            narratives(&description.narratives)
        );
    }
    for organisation in &activity.participating_orgs {
        let mut line = String::new();
        field(&mut line, "ref", &organisation.reference);
        field(&mut line, "type", &organisation.kind);
        field(&mut line, "role", &organisation.role);
        field(&mut line, "activity-id", &organisation.activity_identifier);
        field(
            &mut line,
            "crs-channel-code",
            &organisation.crs_channel_code,
        );
        if !organisation.names.is_empty() {
            let _ = write!(line, " {}", narratives(&organisation.names));
        }
        let _ = writeln!(out, "  participating-org{line}");
    }
    if let Some(status) = &activity.status {
        let _ = writeln!(out, "  status {status}");
    }
    for date in &activity.dates {
        let _ = writeln!(out, "  date type={} {}", date.kind, date.date);
    }
    for country in &activity.recipient_countries {
        let mut line = String::new();
        field(&mut line, "percentage", &country.percentage);
        let _ = writeln!(out, "  recipient-country {}{line}", country.code);
    }
    for region in &activity.recipient_regions {
        let mut line = String::new();
        field(&mut line, "vocabulary", &region.vocabulary);
        field(&mut line, "percentage", &region.percentage);
        let _ = writeln!(out, "  recipient-region {}{line}", region.code);
    }
    for sector in &activity.sectors {
        let _ = writeln!(out, "  sector {}", sector_text(sector));
    }
    let mut defaults = String::new();
    field(
        &mut defaults,
        "collaboration-type",
        &activity.collaboration_type,
    );
    field(&mut defaults, "flow-type", &activity.default_flow_type);
    field(
        &mut defaults,
        "finance-type",
        &activity.default_finance_type,
    );
    field(&mut defaults, "tied-status", &activity.default_tied_status);
    for aid_type in &activity.default_aid_types {
        let _ = write!(defaults, " aid-type={}", aid_type.code);
        if let Some(vocabulary) = &aid_type.vocabulary {
            let _ = write!(defaults, "/{vocabulary}");
        }
    }
    if !defaults.is_empty() {
        let _ = writeln!(out, "  defaults:{defaults}");
    }
    for budget in &activity.budgets {
        let mut line = String::new();
        field(&mut line, "type", &budget.kind);
        field(&mut line, "status", &budget.status);
        field(&mut line, "start", &budget.period_start);
        field(&mut line, "end", &budget.period_end);
        let _ = writeln!(out, "  budget{line} {}", value_text(&budget.value));
    }
    for transaction in &activity.transactions {
        let mut line = String::new();
        field(&mut line, "ref", &transaction.reference);
        field(&mut line, "type", &transaction.kind);
        field(&mut line, "written", &transaction.kind_as_written);
        field(&mut line, "date", &transaction.date);
        field(&mut line, "humanitarian", &transaction.humanitarian);
        let _ = write!(line, " {}", value_text(&transaction.value));
        if let Some(provider) = &transaction.provider_org {
            let _ = write!(line, "\n    provider-org{}", organisation_ref(provider));
        }
        if let Some(receiver) = &transaction.receiver_org {
            let _ = write!(line, "\n    receiver-org{}", organisation_ref(receiver));
        }
        if !transaction.description.is_empty() {
            let _ = write!(
                line,
                "\n    description {}",
                narratives(&transaction.description)
            );
        }
        let mut codes = String::new();
        field(&mut codes, "flow-type", &transaction.flow_type);
        field(&mut codes, "finance-type", &transaction.finance_type);
        field(&mut codes, "tied-status", &transaction.tied_status);
        for aid_type in &transaction.aid_types {
            let _ = write!(codes, " aid-type={}", aid_type.code);
        }
        for country in &transaction.recipient_countries {
            let _ = write!(codes, " recipient-country={country}");
        }
        for sector in &transaction.sectors {
            let _ = write!(codes, " sector={}", sector_text(sector));
        }
        if !codes.is_empty() {
            let _ = write!(line, "\n   {codes}");
        }
        let _ = writeln!(out, "  transaction{line}");
    }
    for related in &activity.related_activities {
        let mut line = String::new();
        field(&mut line, "type", &related.kind);
        let _ = writeln!(out, "  related-activity {}{line}", related.identifier);
    }
}

fn render_organisation(out: &mut String, organisation: &Organisation) {
    let _ = writeln!(
        out,
        "organisation {} at {}:{}, {} faults, {} bytes",
        organisation.identifier,
        organisation.line,
        organisation.column,
        organisation.faults,
        organisation.raw_xml.len()
    );
    let mut attributes = String::new();
    field(
        &mut attributes,
        "default-currency",
        &organisation.default_currency,
    );
    field(&mut attributes, "lang", &organisation.default_lang);
    field(&mut attributes, "last-updated", &organisation.last_updated);
    if !attributes.is_empty() {
        let _ = writeln!(out, "  attributes:{attributes}");
    }
    if !organisation.names.is_empty() {
        let _ = writeln!(out, "  name {}", narratives(&organisation.names));
    }
    if let Some(reporting_org) = &organisation.reporting_org {
        let _ = writeln!(out, "  reporting-org{}", organisation_ref(reporting_org));
    }
    for line in organisation
        .budgets
        .iter()
        .chain(&organisation.expenditures)
    {
        let _ = writeln!(out, "  {}", organisation_budget(line));
    }
}

fn organisation_budget(budget: &OrganisationBudget) -> String {
    let mut line = budget.element.clone();
    field(&mut line, "status", &budget.status);
    field(&mut line, "recipient", &budget.recipient);
    field(&mut line, "start", &budget.period_start);
    field(&mut line, "end", &budget.period_end);
    let _ = write!(line, " {}", value_text(&budget.value));
    line
}

fn organisation_ref(organisation: &OrganisationRef) -> String {
    let mut line = String::new();
    field(&mut line, "ref", &organisation.reference);
    field(&mut line, "type", &organisation.kind);
    field(&mut line, "activity-id", &organisation.activity_identifier);
    if !organisation.names.is_empty() {
        let _ = write!(line, " {}", narratives(&organisation.names));
    }
    line
}

fn sector_text(sector: &Sector) -> String {
    let mut text = sector.code.clone();
    field(&mut text, "vocabulary", &sector.vocabulary);
    field(&mut text, "percentage", &sector.percentage);
    text
}

fn value_text(value: &Option<Value>) -> String {
    match value {
        None => "value=none".to_string(),
        Some(value) => {
            let mut text = format!(
                "value={} {}",
                value.amount,
                value.currency.as_deref().unwrap_or("(no currency)")
            );
            field(&mut text, "value-date", &value.value_date);
            text
        }
    }
}

fn narratives(narratives: &[Narrative]) -> String {
    let parts: Vec<String> = narratives
        .iter()
        .map(|narrative| {
            format!(
                "{}:{:?}",
                narrative.lang.as_deref().unwrap_or("?"),
                narrative.text
            )
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

fn field<T: std::fmt::Display>(out: &mut String, name: &str, value: &Option<T>) {
    if let Some(value) = value {
        let _ = write!(out, " {name}={value}");
    }
}
