//! Located diagnostics: every problem the reader reports names file, line, column and element path.

use std::fmt;

/// How bad a problem is, which decides what happens to the record it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The whole document is unusable (not well-formed XML, hostile input): nothing is stored.
    Fatal,
    /// The record cannot be stored (no identifier) and is skipped; the rest of the file goes in.
    Error,
    /// A lesser fault (unknown code, value that is not a number): the record goes in with what
    /// could be read, flagged.
    Warning,
}

/// One problem found in a document, located precisely enough to fix it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable machine name for the kind of problem, such as `unknown-code` or `not-a-number`.
    pub code: &'static str,
    pub message: String,
    /// The file (or other source label) as the caller named it.
    pub file: String,
    /// 1-based line and column of the element (or attribute's element) at fault.
    pub line: u64,
    pub column: u64,
    /// The element path, such as `/iati-activities/iati-activity/transaction/value`.
    pub path: String,
    /// The identifier of the activity or organisation the problem belongs to, when known.
    pub record: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Fatal => "fatal",
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}:{}: {severity}[{}]: {} (at {}",
            self.file, self.line, self.column, self.code, self.message, self.path
        )?;
        if let Some(record) = &self.record {
            write!(f, ", in {record}")?;
        }
        write!(f, ")")
    }
}
