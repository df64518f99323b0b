//! The language of each request: `?lang=en|fr|es` on any URL (which also sets the `lang`
//! cookie, so the choice sticks), else that cookie, else the browser's `Accept-Language` with its
//! q-values, else English.
//!
//! [`middleware`] decides once per request and makes the answer reachable three ways: handlers
//! take [`Lang`] as an extractor; the error page, which `WebError::into_response` renders
//! without the request at hand, and the language switch in every page's header read it from a
//! value scoped to the handler's future (`tokio::task_local!`), which lives as long as it runs.

use std::convert::Infallible;

use axum::extract::{FromRequestParts, Request};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::http::Uri;
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;

use crate::text::Lang;

/// The cookie that keeps a visitor's choice.
pub const COOKIE: &str = "lang";

/// A year: the choice outlives closing the browser, as visitors expect of a language switch.
const COOKIE_MAX_AGE_SECONDS: u32 = 365 * 24 * 60 * 60;

/// One link of the language switch.
#[derive(Debug, Clone, Serialize)]
pub struct SwitchLink {
    /// "fr".
    pub code: &'static str,
    /// The same page and query in that language.
    pub href: String,
    /// The page's current language, marked `aria-current` in the header.
    pub current: bool,
}

/// What the page being rendered knows of its request.
#[derive(Debug, Clone)]
struct RequestLanguage {
    lang: Lang,
    path: String,
    /// The query's pairs, `lang` left out.
    query: Vec<(String, String)>,
}

tokio::task_local! {
    static CURRENT: RequestLanguage;
}

/// Chooses the request's language, runs the rest of the stack with it, and sets the cookie
/// when the URL asked for a language.
pub async fn middleware(mut request: Request, next: Next) -> Response {
    let query = query_pairs(request.uri());
    let asked = query
        .iter()
        .rev()
        .find(|(name, _)| name == "lang")
        .and_then(|(_, value)| parse_code(value));
    let lang = asked.unwrap_or_else(|| from_headers(request.headers()));
    request.extensions_mut().insert(lang);
    let current = RequestLanguage {
        lang,
        path: request.uri().path().to_owned(),
        query: query
            .into_iter()
            .filter(|(name, _)| name != "lang")
            .collect(),
    };
    let mut response = CURRENT.scope(current, next.run(request)).await;
    // The same URL answers in different languages, so a cache must key on what chose it.
    response.headers_mut().append(
        header::VARY,
        HeaderValue::from_static("Cookie, Accept-Language"),
    );
    if let Some(lang) = asked {
        let cookie = format!(
            "{COOKIE}={}; Path=/; Max-Age={COOKIE_MAX_AGE_SECONDS}; SameSite=Lax; HttpOnly",
            lang.code()
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// Handlers take the request's language as an argument.
impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Lang, Infallible> {
        // Outside the middleware (a router built without it) the same rules still apply.
        Ok(parts.extensions.get::<Lang>().copied().unwrap_or_else(|| {
            query_pairs(&parts.uri)
                .iter()
                .find(|(name, _)| name == "lang")
                .and_then(|(_, value)| parse_code(value))
                .unwrap_or_else(|| from_headers(&parts.headers))
        }))
    }
}

/// The language of the request being answered; English outside a request.
pub fn current() -> Lang {
    CURRENT.try_with(|current| current.lang).unwrap_or(Lang::En)
}

/// The language switch of the page being rendered: the same path and query in each language.
pub fn switch_links() -> Vec<SwitchLink> {
    let (lang, path, query) = CURRENT
        .try_with(|current| (current.lang, current.path.clone(), current.query.clone()))
        .unwrap_or_else(|_| (Lang::En, "/".to_owned(), Vec::new()));
    Lang::ALL
        .iter()
        .map(|&each| {
            let mut pairs = query.clone();
            pairs.push(("lang".to_owned(), each.code().to_owned()));
            let encoded = serde_urlencoded::to_string(&pairs).unwrap_or_default();
            SwitchLink {
                code: each.code(),
                href: format!("{path}?{encoded}"),
                current: each == lang,
            }
        })
        .collect()
}

/// The language of a code, English when the portal does not speak it.
pub fn from_code(code: &str) -> Lang {
    parse_code(code).unwrap_or(Lang::En)
}

/// The language a code names: "fr", "FR", "fr-CH" all name French.
fn parse_code(code: &str) -> Option<Lang> {
    let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    Lang::ALL
        .iter()
        .copied()
        .find(|lang| lang.code() == primary)
}

/// The cookie's language, else the best of `Accept-Language`, else English.
fn from_headers(headers: &HeaderMap) -> Lang {
    let from_cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .and_then(|(_, value)| parse_code(value));
    from_cookie
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|value| value.to_str().ok())
                .and_then(accept_language)
        })
        .unwrap_or(Lang::En)
}

/// The language of `Accept-Language` with the highest q-value that the portal speaks; among
/// equal q-values, the one listed first. `q=0` means "not this one".
fn accept_language(header: &str) -> Option<Lang> {
    let mut best: Option<(Lang, u32)> = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let Some(lang) = parts.next().and_then(parse_code) else {
            continue;
        };
        let mut quality = 1000;
        for parameter in parts {
            if let Some((name, value)) = parameter.trim().split_once('=') {
                if name.trim().eq_ignore_ascii_case("q") {
                    // Thousandths, so that the comparison needs no float.
                    quality = value
                        .trim()
                        .parse::<rust_decimal::Decimal>()
                        .ok()
                        .and_then(|q| {
                            (q * rust_decimal::Decimal::from(1000))
                                .round_dp(0)
                                .try_into()
                                .ok()
                        })
                        .unwrap_or(0);
                }
            }
        }
        if quality > 0 && best.is_none_or(|(_, best_quality)| quality > best_quality) {
            best = Some((lang, quality));
        }
    }
    best.map(|(lang, _)| lang)
}

fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .and_then(|query| serde_urlencoded::from_str(query).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_follows_q_values() {
        assert_eq!(accept_language("es-ES,es;q=0.9"), Some(Lang::Es));
        assert_eq!(accept_language("de-DE,fr;q=0.5,en;q=0.7"), Some(Lang::En));
        assert_eq!(accept_language("en;q=0.2, fr-CA;q=0.8"), Some(Lang::Fr));
        assert_eq!(accept_language("fr;q=0, es;q=0.1"), Some(Lang::Es));
        assert_eq!(accept_language("de, *;q=0.5"), None);
        assert_eq!(accept_language(""), None);
    }

    #[test]
    fn the_cookie_comes_before_the_browser() {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("es"));
        assert_eq!(from_headers(&headers), Lang::Es);
        headers.insert(header::COOKIE, HeaderValue::from_static("other=1; lang=fr"));
        assert_eq!(from_headers(&headers), Lang::Fr);
        headers.insert(header::COOKIE, HeaderValue::from_static("lang=xx"));
        assert_eq!(from_headers(&headers), Lang::Es);
    }
}
