//! `coopfolio validate FILE`: the IATI 2.03 schema, checked by `xmllint`, and the IATI Standard
//! ruleset, checked by `coopfolio_iati::rules`, over one activity or organisation file.
//!
//! The schemas are bundled into the binary (`data/iati-schemas/2.03/`) and written to a
//! temporary folder for `xmllint`, which needs them as files; the one to use is chosen by the
//! document's root element. xmllint's messages are read back into failures with their line, and
//! each failure, of the schema or of a rule, names the activity (or organisation) it falls in.

use std::io::BufReader;
use std::path::Path;
use std::process::Command;

use anyhow::Context;
use coopfolio_iati::rules::{today_utc, RecordSpan, RuleChecker, RuleFailure};
use serde::Serialize;

/// The 2.03 schema files, by the names under which they import each other.
const SCHEMAS: [(&str, &str); 4] = [
    (
        "iati-activities-schema.xsd",
        include_str!("../../../data/iati-schemas/2.03/iati-activities-schema.xsd"),
    ),
    (
        "iati-organisations-schema.xsd",
        include_str!("../../../data/iati-schemas/2.03/iati-organisations-schema.xsd"),
    ),
    (
        "iati-common.xsd",
        include_str!("../../../data/iati-schemas/2.03/iati-common.xsd"),
    ),
    (
        "xml.xsd",
        include_str!("../../../data/iati-schemas/2.03/xml.xsd"),
    ),
];

/// Everything `validate` found.
#[derive(Debug, Clone, Serialize)]
pub struct ValidationReport {
    pub file: String,
    /// `iati-activities` or `iati-organisations` (or whatever root the file has).
    pub root: Option<String>,
    /// The schema file the document was checked against.
    pub schema: Option<String>,
    pub schema_failures: Vec<SchemaFailure>,
    pub rule_failures: Vec<RuleFailure>,
    /// Activities and organisations the rules were applied to.
    pub records: u64,
    pub cases_evaluated: u64,
    /// Rule cases that need the IATI Registry, not applied offline.
    pub cases_skipped: u64,
    /// Set when the document could not be read to its end (not well-formed XML, say).
    pub rules_stopped: Option<String>,
    /// Where each record lies; used to name the record of a schema failure, not printed.
    #[serde(skip)]
    pub spans: Vec<RecordSpan>,
}

/// One complaint of xmllint.
#[derive(Debug, Clone, Serialize)]
pub struct SchemaFailure {
    pub line: u64,
    pub identifier: Option<String>,
    pub message: String,
}

impl ValidationReport {
    /// Clean: the schema passes and no rule of severity `error` fails (warnings are listed,
    /// as the IATI Validator lists them, without failing the file).
    pub fn is_clean(&self) -> bool {
        self.schema_failures.is_empty()
            && self.rules_stopped.is_none()
            && self.rule_failures.iter().all(|failure| !failure.is_error())
    }
}

/// Validates one file against the schema its root calls for and the IATI Standard ruleset.
pub fn validate_file(path: &Path) -> anyhow::Result<ValidationReport> {
    let mut checker = RuleChecker::standard(today_utc()).context("reading the IATI ruleset")?;
    let mut report = check_rules(&mut checker, path)?;
    let schema = match report.root.as_deref() {
        Some("iati-organisations") => "iati-organisations-schema.xsd",
        _ => "iati-activities-schema.xsd",
    };
    report.schema = Some(format!("IATI 2.03 {schema}"));
    let spans = std::mem::take(&mut report.spans);
    report.schema_failures = run_xmllint(path, schema)?
        .into_iter()
        .map(|(line, message)| SchemaFailure {
            line,
            identifier: spans
                .iter()
                .find(|span| span.first_line <= line && line <= span.last_line)
                .and_then(|span| span.identifier.clone()),
            message,
        })
        .collect();
    Ok(report)
}

/// Applies a ruleset to a file; the failures are in the report, the schema not yet checked.
pub fn check_rules(checker: &mut RuleChecker, path: &Path) -> anyhow::Result<ValidationReport> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut rule_failures = Vec::new();
    let mut report = ValidationReport {
        file: path.display().to_string(),
        root: None,
        schema: None,
        schema_failures: Vec::new(),
        rule_failures: Vec::new(),
        records: 0,
        cases_evaluated: 0,
        cases_skipped: 0,
        rules_stopped: None,
        spans: Vec::new(),
    };
    match checker.check(BufReader::new(file), |failure| rule_failures.push(failure)) {
        Ok(summary) => {
            report.root = summary.root;
            report.records = summary.records;
            report.cases_evaluated = summary.cases_evaluated;
            report.cases_skipped = summary.cases_skipped;
            report.spans = summary.spans;
        }
        Err(coopfolio_iati::rules::RulesError::Io(error)) => {
            return Err(error).with_context(|| format!("reading {}", path.display()))
        }
        Err(error) => report.rules_stopped = Some(error.to_string()),
    }
    report.rule_failures = rule_failures;
    Ok(report)
}

/// Runs `xmllint --noout --schema` and returns its complaints as (line, message).
fn run_xmllint(path: &Path, schema: &str) -> anyhow::Result<Vec<(u64, String)>> {
    let folder = tempfile::tempdir().context("making a folder for the IATI schemas")?;
    for (name, text) in SCHEMAS {
        std::fs::write(folder.path().join(name), text)
            .with_context(|| format!("writing the schema {name}"))?;
    }
    let output = match Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(folder.path().join(schema))
        .arg(path)
        .output()
    {
        Ok(output) => output,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
            "xmllint was not found on PATH: install libxml2-utils (Debian, Ubuntu) or libxml2 \
             (macOS, Fedora) to check files against the IATI schema"
        ),
        Err(error) => return Err(error).context("running xmllint"),
    };
    if output.status.success() {
        return Ok(Vec::new());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let prefix = format!("{}:", path.display());
    let mut failures = Vec::new();
    for line in stderr.lines() {
        let Some(rest) = line.strip_prefix(&prefix) else {
            continue;
        };
        let Some((number, message)) = rest.split_once(':') else {
            continue;
        };
        if let Ok(number) = number.trim().parse::<u64>() {
            failures.push((number, message.trim().to_owned()));
        }
    }
    // xmllint failed without a located message (a schema it could not load, say): say so
    // rather than call the file clean.
    if failures.is_empty() {
        failures.push((0, stderr.trim().to_owned()));
    }
    Ok(failures)
}

/// Prints a report for people: every failure, located.
pub fn print_report(report: &ValidationReport) {
    let schema = report.schema.as_deref().unwrap_or("the IATI schema");
    if report.schema_failures.is_empty() {
        println!("{}: valid against {schema}", report.file);
    } else {
        println!(
            "{}: {} schema failures against {schema}",
            report.file,
            report.schema_failures.len()
        );
    }
    for failure in &report.schema_failures {
        println!(
            "  {}:{}: [{}] schema: {}",
            report.file,
            failure.line,
            failure.identifier.as_deref().unwrap_or("-"),
            failure.message
        );
    }
    if let Some(stopped) = &report.rules_stopped {
        println!("  rules stopped: {stopped}");
    }
    let errors = report
        .rule_failures
        .iter()
        .filter(|failure| failure.is_error())
        .count();
    println!(
        "{}: IATI Standard ruleset over {} records: {} errors, {} warnings ({} cases applied, {} needing the IATI Registry not applied)",
        report.file,
        report.records,
        errors,
        report.rule_failures.len() - errors,
        report.cases_evaluated,
        report.cases_skipped,
    );
    for failure in &report.rule_failures {
        println!(
            "  {}:{}: [{}] {} {} {}{}: {}",
            report.file,
            failure.line,
            failure.identifier.as_deref().unwrap_or("-"),
            failure.severity,
            failure.rule,
            failure.rule_id.as_deref().unwrap_or(""),
            failure
                .message
                .as_deref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default(),
            failure.paths.join(" | "),
        );
    }
}
