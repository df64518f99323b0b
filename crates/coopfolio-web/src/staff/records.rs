//! The staff forms for the records behind every figure: partners, agreements, multi-stakeholder
//! partnerships and programmes and projects (one module each), and what they share here: the
//! form read as name-value pairs, the checks that name the wrong field, and the view a form is
//! rendered from.
//!
//! A form that fails a check comes back (422) with every value as it was sent, the message
//! beside its field and in a summary at the top; nothing is saved. Repeated rows (instalments,
//! shares, members...) are fields named `ROW_INDEX_PART`; an "add a row" button is a submit
//! button that renders the same form with one more blank row, so the forms need no script.

pub mod agreements;
pub mod partners;
pub mod partnerships;
pub mod project_form;
pub mod projects;

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use coopfolio_core::country::Countries;
use coopfolio_core::value::{parse_amount, parse_iso_date};
use coopfolio_store::StoreError;
use rust_decimal::Decimal;
use serde::Serialize;

use super::{change_error, parse_form};
use crate::error::WebError;
use crate::text::Catalog;

/// The longest name or title kept, in characters.
pub const MAX_NAME_CHARS: usize = 300;
/// The longest free text kept (a role, a label), in characters.
pub const MAX_TEXT_CHARS: usize = 1000;
/// The longest key, in characters.
pub const MAX_KEY_CHARS: usize = 80;
/// The most rows of one kind a form takes; more is no longer a form a person fills in.
pub const MAX_ROWS: usize = 200;

/// A submitted form: its name-value pairs in order.
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// Reads a URL-encoded body; a body that is not one, or holds bytes that are not UTF-8, is
    /// refused whole (400) and nothing is stored.
    pub fn parse(body: &Bytes) -> Result<Form, WebError> {
        Ok(Form {
            pairs: parse_form(body)?,
        })
    }

    /// A form made of pairs that did not come from a URL-encoded body (the API's JSON bodies,
    /// put in the form's field names so that the same checks read them).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Form {
        Form { pairs }
    }

    /// The first value sent under `name`, or empty.
    pub fn get(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .unwrap_or("")
    }

    /// Every value sent under `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// How many rows named `PREFIX_INDEX_...` the form holds: one more than the highest index
    /// sent, at most [`MAX_ROWS`].
    pub fn rows(&self, prefix: &str) -> usize {
        let start = format!("{prefix}_");
        self.pairs
            .iter()
            .filter_map(|(key, _)| {
                let rest = key.strip_prefix(&start)?;
                rest.split('_').next()?.parse::<usize>().ok()
            })
            .map(|index| index + 1)
            .max()
            .unwrap_or(0)
            .min(MAX_ROWS)
    }

    /// The row kind whose "add a row" button was pressed, if one was.
    pub fn added_row(&self) -> Option<&str> {
        Some(self.get("add_row")).filter(|kind| !kind.is_empty())
    }
}

/// The checks of one form: each failed check is kept with its field, and the form is valid when
/// none failed.
pub struct Checker<'a> {
    pub form: &'a Form,
    pub text: &'a Catalog,
    pub errors: Vec<FieldError>,
}

/// A message beside the field it is about.
#[derive(Debug, Clone, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl<'a> Checker<'a> {
    pub fn new(form: &'a Form, text: &'a Catalog) -> Checker<'a> {
        Checker {
            form,
            text,
            errors: Vec::new(),
        }
    }

    pub fn fail(&mut self, field: &str, key: &'static str) {
        self.fail_with(field, self.text.get(key).to_owned());
    }

    pub fn fail_with(&mut self, field: &str, message: String) {
        // One message per field: the first rule broken is the one to fix first.
        if !self.errors.iter().any(|error| error.field == field) {
            self.errors.push(FieldError {
                field: field.to_owned(),
                message,
            });
        }
    }

    /// Trimmed text of at most `max` characters, refused when required and empty.
    pub fn text(&mut self, field: &str, required: bool, max: usize) -> String {
        let value = self.form.get(field).trim();
        if required && value.is_empty() {
            self.fail(field, "records_error_required");
        } else if value.chars().count() > max {
            self.fail_with(
                field,
                format!("{} {max}.", self.text.get("records_error_too_long")),
            );
        } else if value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            self.fail(field, "records_error_control");
        }
        value.to_owned()
    }

    /// Optional text: None when empty.
    pub fn optional_text(&mut self, field: &str, max: usize) -> Option<String> {
        Some(self.text(field, false, max)).filter(|value| !value.is_empty())
    }

    /// A record's key: lower-case letters, digits, '-', '_' and '.', starting with a letter or
    /// digit, so that it reads the same in a URL, a file and the audit log.
    pub fn key(&mut self, field: &str) -> String {
        let value = self.text(field, true, MAX_KEY_CHARS);
        let well_formed = value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
            && value
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric());
        if !value.is_empty() && !well_formed {
            self.fail(field, "records_error_key");
        }
        value
    }

    /// An optional date, "YYYY-MM-DD".
    pub fn date(&mut self, field: &str, required: bool) -> Option<String> {
        let value = self.form.get(field).trim();
        if value.is_empty() {
            if required {
                self.fail(field, "records_error_required");
            }
            return None;
        }
        match parse_iso_date(value) {
            Ok(date) if date.len() == 10 => Some(date),
            _ => {
                self.fail(field, "records_error_date");
                None
            }
        }
    }

    /// An optional amount: an exact decimal, not negative.
    pub fn amount(&mut self, field: &str, required: bool) -> Option<Decimal> {
        let value = self.form.get(field).trim();
        if value.is_empty() {
            if required {
                self.fail(field, "records_error_required");
            }
            return None;
        }
        match parse_amount(value) {
            Ok(amount) if amount >= Decimal::ZERO => Some(amount),
            _ => {
                self.fail(field, "records_error_amount");
                None
            }
        }
    }

    /// A code of a closed list, read with `parse`.
    pub fn code<T: std::str::FromStr>(&mut self, field: &str, required: bool) -> Option<T> {
        let value = self.form.get(field).trim();
        if value.is_empty() {
            if required {
                self.fail(field, "records_error_required");
            }
            return None;
        }
        match value.parse() {
            Ok(code) => Some(code),
            Err(_) => {
                self.fail(field, "records_error_choice");
                None
            }
        }
    }

    /// An optional country, by ISO alpha-2 code.
    pub fn country(&mut self, field: &str) -> Option<String> {
        let value = self.form.get(field).trim().to_ascii_uppercase();
        if value.is_empty() {
            return None;
        }
        if Countries::bundled().get(&value).is_none() {
            self.fail(field, "records_error_country");
            return None;
        }
        Some(value)
    }

    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
}

/// What a form template renders from: every value as sent, the messages by field and in order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FormView {
    pub values: BTreeMap<String, String>,
    pub errors: Vec<FieldError>,
    pub field_errors: BTreeMap<String, String>,
}

impl FormView {
    /// The view of a submitted form with the errors its checks found.
    pub fn from_form(form: &Form, errors: Vec<FieldError>) -> FormView {
        let mut values = BTreeMap::new();
        for (key, value) in &form.pairs {
            values.entry(key.clone()).or_insert_with(|| value.clone());
        }
        let field_errors = errors
            .iter()
            .map(|error| (error.field.clone(), error.message.clone()))
            .collect();
        FormView {
            values,
            errors,
            field_errors,
        }
    }

    /// The view of a form filled from a stored record (or blank).
    pub fn from_values(values: BTreeMap<String, String>) -> FormView {
        FormView {
            values,
            ..FormView::default()
        }
    }

    pub fn set(&mut self, field: &str, value: impl Into<String>) {
        self.values.insert(field.to_owned(), value.into());
    }
}

/// One option of a select or one checkbox.
#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    pub code: String,
    pub label: String,
}

impl Choice {
    pub fn new(code: impl Into<String>, label: impl Into<String>) -> Choice {
        Choice {
            code: code.into(),
            label: label.into(),
        }
    }
}

/// Every country, by name in `lang`.
pub fn country_choices(lang: &str) -> Vec<Choice> {
    let mut choices: Vec<Choice> = Countries::bundled()
        .all()
        .iter()
        .map(|country| Choice::new(country.alpha2.clone(), country.names.get(lang)))
        .collect();
    choices.sort_by(|a, b| a.label.cmp(&b.label));
    choices
}

/// A rendered form page: 200 when it is shown to be filled in, 422 when it comes back with
/// errors.
pub fn form_response(html: String, has_errors: bool) -> Response {
    let status = if has_errors {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (status, Html(html)).into_response()
}

/// A store error met while saving a form: a rule one field broke goes back beside that field
/// (`Ok` with the error); anything else is the request's or the server's fault.
pub fn field_error_of(error: StoreError) -> Result<FieldError, WebError> {
    match error {
        StoreError::Invalid { field, message } => Ok(FieldError {
            field: field.to_owned(),
            message: capitalised(&message),
        }),
        other => Err(change_error(other)),
    }
}

fn capitalised(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// The answer to a saved form: the record's page, so that reloading does not send it again.
pub fn saved(path: &str) -> Response {
    Redirect::to(path).into_response()
}

/// A key or identifier as one URL path segment: everything but unreserved characters
/// percent-encoded.
pub fn path_segment(key: &str) -> String {
    let mut segment = String::new();
    for byte in key.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            segment.push(byte as char);
        } else {
            segment.push_str(&format!("%{byte:02X}"));
        }
    }
    segment
}

/// A number of rows to show: those sent (or stored), one more when "add a row" asked for it,
/// and at least `minimum`.
pub fn row_count(stored: usize, added: bool, minimum: usize) -> usize {
    (stored + usize::from(added)).max(minimum).min(MAX_ROWS)
}
