//! The inquiry form ("Contact us"): `GET /contact` shows it, `POST /contact` checks it and
//! stores the inquiry at the `received` stage of the staff pipeline, and `GET /contact/thanks`
//! shows the sender their reference.
//!
//! Every check is made here on the server (the form says `novalidate`, so a browser shows our
//! messages and not its own): a wrong field is named beside the field and in a summary at the
//! top that links to it, and the form comes back with everything as typed. A field hidden by
//! the stylesheet catches form-filling robots: a send that fills it is answered exactly like a
//! real one and stored nowhere. Each client address may send a few inquiries an hour, counted
//! in the database so that every server counts the same.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::header::{self, HeaderMap};
use axum::http::{Extensions, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use coopfolio_core::country::Countries;
use coopfolio_core::partner_group::PartnerGroup;
use coopfolio_core::partnership::InquiryKind;
use coopfolio_core::policy_area::PolicyArea;
use coopfolio_store::inquiry::{Admission, NewInquiry, SendLimit};
use serde::{Deserialize, Serialize};

use crate::client::{client_address, same_origin};
use crate::error::WebError;
use crate::text::{catalog, Catalog, Lang};
use crate::{render, AppState};

/// How many inquiries one client address may send, and over what time, unless the
/// `inquiry_sends_per_hour` setting says otherwise.
pub const SEND_LIMIT: SendLimit = SendLimit {
    sends: 5,
    window: Duration::from_secs(3600),
};

/// The longest message, in characters. Sent as UTF-8 and percent-encoded, the longest
/// possible message stays well inside the portal's request body limit, so an overlong one is
/// answered with the form and a message, not with a bare refusal.
pub const MESSAGE_MAX_CHARS: usize = 4_000;

/// The longest name or organisation, in characters.
const SHORT_TEXT_MAX_CHARS: usize = 200;

/// The longest e-mail address a mail system carries (RFC 5321's path limit, less the brackets).
const EMAIL_MAX_CHARS: usize = 254;

/// The trap field's name: one that form-filling robots are keen to fill.
const TRAP_FIELD: &str = "website";

pub async fn form(lang: Lang) -> Result<Html<String>, WebError> {
    let text = catalog(lang);
    Ok(Html(render::page(
        "contact.html",
        text,
        FormPage::new(text, InquiryForm::default(), Vec::new(), None),
    )?))
}

pub async fn send(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    extensions: Extensions,
    body: Bytes,
) -> Result<Response, WebError> {
    let text = catalog(lang);
    if !same_origin(&headers, state.behind_proxy) {
        return Err(WebError::BadRequest(
            "The form was sent from a page of another site. Please use the form on this site."
                .to_owned(),
        ));
    }
    // The body is read as bytes and decoded here rather than by axum's `Form`, so that a body
    // that cannot be read gives the form back with a message instead of a bare 415 or 422.
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|value| {
            value
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    let Some(form) = is_form.then(|| InquiryForm::from_body(&body)).flatten() else {
        let page = FormPage::new(
            text,
            InquiryForm::default(),
            Vec::new(),
            Some(text.get("inquiry_error_unreadable").to_owned()),
        );
        return Ok((
            StatusCode::BAD_REQUEST,
            Html(render::page("contact.html", text, page)?),
        )
            .into_response());
    };

    let checked = if form.trap.trim().is_empty() {
        match form.check(text) {
            Ok(inquiry) => Some(inquiry),
            Err(errors) => {
                let page = FormPage::new(text, form, errors, None);
                return Ok((
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Html(render::page("contact.html", text, page)?),
                )
                    .into_response());
            }
        }
    } else {
        // A robot: it goes through the same limit and gets the same answer as a person, so
        // that nothing tells it that it was caught.
        None
    };

    let client = client_address(&headers, &extensions, state.behind_proxy);
    // The administrators' setting, else the default.
    let limit = state.store.inquiry_send_limit(SEND_LIMIT).await?;
    if let Admission::Refused { retry_after } =
        state.store.admit_inquiry_send(&client, limit).await?
    {
        return too_many(text, form, retry_after);
    }

    let reference = match checked {
        Some(inquiry) => {
            let reference = state.store.receive_inquiry(&inquiry).await?;
            // The officers' notices are in the outbox already; a mail server, if there is
            // one, gets them now rather than at the next periodic round.
            crate::mail::deliver_soon(&state);
            reference
        }
        None => decoy_reference(),
    };
    Ok(Redirect::to(&format!("/contact/thanks?reference={reference}")).into_response())
}

#[derive(Debug, Deserialize)]
pub struct ThanksParams {
    #[serde(default)]
    reference: String,
}

/// The thank-you page. It shows the reference from the URL without looking it up, so that it
/// reads the same for a stored inquiry and a trapped one, and holds nothing but the reference.
pub async fn thanks(
    lang: Lang,
    Query(params): Query<ThanksParams>,
) -> Result<Html<String>, WebError> {
    if !is_reference(&params.reference) {
        return Err(WebError::NotFound(
            "There is no inquiry reference in this address.".to_owned(),
        ));
    }
    let text = catalog(lang);
    Ok(Html(render::page(
        "contact_thanks.html",
        text,
        ThanksPage {
            reference: params.reference,
        },
    )?))
}

/// The form as sent, every field as typed, so that it can come back filled in.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct InquiryForm {
    pub(crate) kind: String,
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) organisation: String,
    pub(crate) partner_group: String,
    pub(crate) country: String,
    pub(crate) areas: Vec<String>,
    pub(crate) message: String,
    pub(crate) consent: bool,
    #[serde(skip)]
    pub(crate) trap: String,
}

/// One field's problem: the field's name and what to do about it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FieldError {
    pub(crate) field: &'static str,
    pub(crate) message: String,
}

impl InquiryForm {
    /// The fields of a `application/x-www-form-urlencoded` body, or `None` when it is not one.
    /// Unknown fields are ignored; a field given twice keeps its last value, as the form never
    /// sends one twice (policy areas apart, which collect).
    fn from_body(body: &[u8]) -> Option<InquiryForm> {
        let body = std::str::from_utf8(body).ok()?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(body).ok()?;
        let mut form = InquiryForm::default();
        for (name, value) in pairs {
            match name.as_str() {
                "kind" => form.kind = value,
                "name" => form.name = value,
                "email" => form.email = value,
                "organisation" => form.organisation = value,
                "partner_group" => form.partner_group = value,
                "country" => form.country = value,
                "area" => form.areas.push(value),
                "message" => form.message = value,
                "consent" => form.consent = !value.is_empty(),
                TRAP_FIELD => form.trap = value,
                _ => {}
            }
        }
        Some(form)
    }

    /// The inquiry to store, or every field's problem in the order of the form.
    pub(crate) fn check(&self, text: &Catalog) -> Result<NewInquiry, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut fail = |field: &'static str, message: String| {
            errors.push(FieldError { field, message });
        };
        let kind = InquiryKind::from_code(self.kind.trim());
        if kind.is_none() {
            fail("kind", text.get("inquiry_error_kind").to_owned());
        }
        let name = single_line(&self.name);
        if name.is_empty() {
            fail("name", text.get("inquiry_error_name").to_owned());
        } else if name.chars().count() > SHORT_TEXT_MAX_CHARS {
            fail("name", too_long(text, SHORT_TEXT_MAX_CHARS));
        }
        let email = single_line(&self.email);
        if email.is_empty() {
            fail("email", text.get("inquiry_error_email").to_owned());
        } else if !is_email_address(&email) {
            fail("email", text.get("inquiry_error_email_format").to_owned());
        }
        let organisation = single_line(&self.organisation);
        if organisation.is_empty() {
            fail(
                "organisation",
                text.get("inquiry_error_organisation").to_owned(),
            );
        } else if organisation.chars().count() > SHORT_TEXT_MAX_CHARS {
            fail("organisation", too_long(text, SHORT_TEXT_MAX_CHARS));
        }
        let partner_group = match self.partner_group.trim() {
            "" => None,
            code => {
                let group = PartnerGroup::from_code(code);
                if group.is_none() {
                    fail(
                        "partner_group",
                        text.get("inquiry_error_partner_group").to_owned(),
                    );
                }
                group
            }
        };
        let country = match self.country.trim() {
            "" => None,
            code => {
                let country = Countries::bundled()
                    .get(code)
                    .map(|country| country.alpha2.clone());
                if country.is_none() {
                    fail("country", text.get("inquiry_error_country").to_owned());
                }
                country
            }
        };
        let areas: Option<Vec<PolicyArea>> = self
            .areas
            .iter()
            .map(|code| PolicyArea::from_code(code.trim()))
            .collect();
        if areas.is_none() {
            fail("areas", text.get("inquiry_error_areas").to_owned());
        }
        let message = multi_line(&self.message);
        if message.is_empty() {
            fail("message", text.get("inquiry_error_message").to_owned());
        } else if message.chars().count() > MESSAGE_MAX_CHARS {
            fail("message", too_long(text, MESSAGE_MAX_CHARS));
        }
        if !self.consent {
            fail("consent", text.get("inquiry_error_consent").to_owned());
        }
        match (kind, areas) {
            (Some(kind), Some(policy_areas)) if errors.is_empty() => Ok(NewInquiry {
                kind,
                name,
                email,
                organisation,
                partner_group,
                country,
                policy_areas,
                message,
            }),
            _ => Err(errors),
        }
    }
}

/// A one-line field as stored: trimmed, with control characters (which no keyboard types into
/// a one-line field) removed.
fn single_line(value: &str) -> String {
    value
        .chars()
        .filter(|character| !character.is_control())
        .collect::<String>()
        .trim()
        .to_owned()
}

/// A message as stored: line ends as `\n`, other control characters but tabs removed, no blank
/// lines at either end.
fn multi_line(value: &str) -> String {
    value
        .replace("\r\n", "\n")
        .chars()
        .filter(|&character| !character.is_control() || character == '\n' || character == '\t')
        .collect::<String>()
        .trim()
        .to_owned()
}

fn too_long(text: &Catalog, max: usize) -> String {
    text.get("inquiry_error_too_long")
        .replace("{max}", &format!("{max}"))
}

/// Whether `address` looks like an address mail can be sent to: one `@`, a local part without
/// spaces or the characters that need quoting, and a domain of dot-separated labels. Stricter
/// checks (RFC 5322's quoted forms, whether the domain receives mail) would refuse real
/// addresses or need the network; a typo such as a missing `@` or domain is what this catches.
fn is_email_address(address: &str) -> bool {
    if address.chars().count() > EMAIL_MAX_CHARS {
        return false;
    }
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|character| !character.is_whitespace() && !"@<>()[]\\,;:\"".contains(character));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|character| character.is_alphanumeric() || character == '-')
        });
    local_ok && domain_ok
}

/// Whether `reference` is one the store hands out: `INQ-`, a year, `-`, six or more digits.
fn is_reference(reference: &str) -> bool {
    let Some(rest) = reference.strip_prefix("INQ-") else {
        return false;
    };
    let Some((year, number)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && number.len() >= 6
        && year.bytes().all(|byte| byte.is_ascii_digit())
        && number.bytes().all(|byte| byte.is_ascii_digit())
}

/// A reference shaped like a real one for a trapped send: this year's, with a number from the
/// clock, far above the ids a real database reaches so that it is never read as a real one.
fn decoy_reference() -> String {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let year = 1970 + since_epoch.as_secs() / 31_556_952;
    format!(
        "INQ-{year}-{}",
        9_000_000 + since_epoch.subsec_micros() % 1_000_000
    )
}

/// 429 with the time to wait, in the `Retry-After` header and in words above the form, which
/// comes back filled in so that the message is not lost.
fn too_many(
    text: &Catalog,
    form: InquiryForm,
    retry_after: Duration,
) -> Result<Response, WebError> {
    let minutes = retry_after.as_secs().div_ceil(60).max(1);
    let message = text
        .get("inquiry_too_many_message")
        .replace("{minutes}", &minutes.to_string());
    let page = FormPage::new(text, form, Vec::new(), Some(message));
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        Html(render::page("contact.html", text, page)?),
    )
        .into_response();
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(retry_after.as_secs().max(1)),
    );
    Ok(response)
}

#[derive(Serialize)]
struct FormPage {
    form: InquiryForm,
    /// Problems in the order of the form, for the summary at the top.
    errors: Vec<FieldError>,
    /// The same by field name, for the message beside each field.
    field_errors: BTreeMap<&'static str, String>,
    /// A problem with the whole send rather than one field.
    form_error: Option<String>,
    kinds: Vec<Choice>,
    partner_groups: Vec<Choice>,
    countries: Vec<Choice>,
    areas: Vec<Choice>,
    message_max: usize,
    trap_field: &'static str,
}

/// One option of a select or one checkbox, and whether the sender chose it.
#[derive(Serialize)]
struct Choice {
    code: String,
    label: String,
    chosen: bool,
}

impl FormPage {
    fn new(
        text: &Catalog,
        form: InquiryForm,
        errors: Vec<FieldError>,
        form_error: Option<String>,
    ) -> FormPage {
        let lang = text.lang().code();
        let choice = |code: &str, label: &str, chosen: bool| Choice {
            code: code.to_owned(),
            label: label.to_owned(),
            chosen,
        };
        let mut countries: Vec<Choice> = Countries::bundled()
            .all()
            .iter()
            .map(|country| {
                choice(
                    &country.alpha2,
                    country.names.get(lang),
                    country.alpha2.eq_ignore_ascii_case(form.country.trim()),
                )
            })
            .collect();
        countries.sort_by(|a, b| a.label.cmp(&b.label));
        FormPage {
            kinds: InquiryKind::ALL
                .iter()
                .map(|kind| choice(kind.code(), kind.label(lang), kind.code() == form.kind))
                .collect(),
            partner_groups: PartnerGroup::ALL
                .iter()
                .map(|group| {
                    choice(
                        group.code(),
                        group.label(lang),
                        group.code() == form.partner_group,
                    )
                })
                .collect(),
            countries,
            areas: PolicyArea::ALL
                .iter()
                .map(|area| {
                    choice(
                        area.code(),
                        area.label(lang),
                        form.areas.iter().any(|code| code == area.code()),
                    )
                })
                .collect(),
            field_errors: errors
                .iter()
                .map(|error| (error.field, error.message.clone()))
                .collect(),
            errors,
            form_error,
            form,
            message_max: MESSAGE_MAX_CHARS,
            trap_field: TRAP_FIELD,
        }
    }
}

#[derive(Serialize)]
struct ThanksPage {
    reference: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses_people_type() {
        for good in [
            "ana.lopez@example.org",
            "x@sub.example.co.uk",
            "first+tag@ex-ample.org",
            "josé@correo.example.es",
        ] {
            assert!(is_email_address(good), "{good}");
        }
        for bad in [
            "ana.lopez.example.org",
            "ana@",
            "@example.org",
            "ana@example",
            "ana lopez@example.org",
            "ana@@example.org",
            "ana@example..org",
            "ana@-example.org",
            ".ana@example.org",
        ] {
            assert!(!is_email_address(bad), "{bad}");
        }
    }

    #[test]
    fn references_are_recognised() {
        assert!(is_reference("INQ-2026-000123"));
        assert!(is_reference("INQ-2026-1234567"));
        assert!(is_reference(&decoy_reference()));
        for bad in [
            "",
            "INQ-26-000123",
            "INQ-2026-12",
            "inq-001",
            "INQ-2026-00012a",
        ] {
            assert!(!is_reference(bad), "{bad}");
        }
    }

    #[test]
    fn policy_areas_collect_and_the_trap_is_kept_apart() {
        let form = InquiryForm::from_body(
            b"kind=other&area=skills&area=migration&consent=yes&website=http%3A%2F%2Fspam&name=A+B",
        )
        .unwrap();
        assert_eq!(form.areas, ["skills", "migration"]);
        assert!(form.consent);
        assert_eq!(form.trap, "http://spam");
        assert_eq!(form.name, "A B");
        assert!(InquiryForm::from_body(&[0xff, 0xfe]).is_none());
    }

    #[test]
    fn every_wrong_field_is_named_in_form_order() {
        let text = catalog(Lang::En);
        let form = InquiryForm {
            kind: "bribe".into(),
            email: "nobody".into(),
            country: "XX".into(),
            areas: vec!["astrology".into()],
            message: "x".repeat(MESSAGE_MAX_CHARS + 1),
            ..InquiryForm::default()
        };
        let errors = form.check(text).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|error| error.field).collect();
        assert_eq!(
            fields,
            [
                "kind",
                "name",
                "email",
                "organisation",
                "country",
                "areas",
                "message",
                "consent"
            ]
        );
    }

    #[test]
    fn text_is_tidied_before_it_is_stored() {
        assert_eq!(single_line("  Ana\u{0}\u{7} López \n"), "Ana López");
        assert_eq!(
            multi_line("\r\nHello,\r\n\tworld\u{1b}\r\n\r\n"),
            "Hello,\n\tworld"
        );
    }
}
