//! A short-lived cache of rendered public pages, per server process: an optimisation only,
//! never state another server needs. A page (home, explorer, project, partner, country, policy
//! area, partnership, funding) rendered for a language and a URL is kept for [`PAGE_TTL`] and
//! served from memory to the next visitors, with an `ETag` so that a browser that has it gets
//! `304 Not Modified`.
//!
//! Why this is safe when many servers share one database: each server's copy may be older than
//! the database by at most [`PAGE_TTL`] (plus the time of one render), whoever wrote; a write
//! that comes through this server (an inquiry, any staff change) empties its cache at once, so
//! its own visitors see their change on the next page. Nothing is cached that depends on who is
//! asking: staff pages, the inquiry form and downloads pass through untouched, and so does any
//! response other than 200.
//!
//! When a page expires, the first request to find it so renders it again while the others
//! keep getting the previous copy, so that a popular page under load is rendered once per
//! period rather than once per waiting connection.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::text::Lang;
use crate::AppState;

/// How long a rendered page is served from memory: the most a page may lag the database.
pub const PAGE_TTL: Duration = Duration::from_secs(5);

/// How many pages a server keeps; beyond this, expired pages are dropped first and then the
/// new page is not kept, so that a crawl through every explorer view cannot grow memory.
const MAX_PAGES: usize = 2_000;

/// The largest page kept; the explorer's and the home page's are a few hundred kilobytes.
const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

/// The cache of one server process; cheap to clone (the clones share it).
#[derive(Clone)]
pub struct PageCache {
    pages: Arc<Mutex<HashMap<String, Entry>>>,
    enabled: bool,
}

impl Default for PageCache {
    fn default() -> Self {
        PageCache {
            pages: Arc::default(),
            enabled: true,
        }
    }
}

impl std::fmt::Debug for PageCache {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pages = self.pages.lock().map_or(0, |pages| pages.len());
        formatter
            .debug_struct("PageCache")
            .field("pages", &pages)
            .finish()
    }
}

struct Entry {
    rendered_at: Instant,
    /// A request is rendering the page again; the others serve this copy meanwhile.
    refreshing: bool,
    content_type: HeaderValue,
    etag: HeaderValue,
    body: Bytes,
}

/// What a lookup found.
enum Lookup {
    Fresh(Response),
    /// Render it: there is no copy, or this request is the one to refresh an expired copy.
    Render,
}

impl PageCache {
    /// A cache that keeps nothing.
    pub fn disabled() -> PageCache {
        PageCache {
            enabled: false,
            ..PageCache::default()
        }
    }

    fn lookup(&self, key: &str, if_none_match: Option<&HeaderValue>) -> Lookup {
        let Ok(mut pages) = self.pages.lock() else {
            return Lookup::Render;
        };
        let Some(entry) = pages.get_mut(key) else {
            return Lookup::Render;
        };
        let age = entry.rendered_at.elapsed();
        // A refresh that never finished (its request was dropped) is given up after a while.
        if age >= PAGE_TTL && (!entry.refreshing || age >= 6 * PAGE_TTL) {
            entry.refreshing = true;
            return Lookup::Render;
        }
        Lookup::Fresh(entry.response(if_none_match))
    }

    fn store(&self, key: String, content_type: HeaderValue, body: Bytes) -> HeaderValue {
        let etag = etag(&body);
        let Ok(mut pages) = self.pages.lock() else {
            return etag;
        };
        if pages.len() >= MAX_PAGES && !pages.contains_key(&key) {
            pages.retain(|_, entry| entry.rendered_at.elapsed() < PAGE_TTL);
            if pages.len() >= MAX_PAGES {
                return etag;
            }
        }
        pages.insert(
            key,
            Entry {
                rendered_at: Instant::now(),
                refreshing: false,
                content_type,
                etag: etag.clone(),
                body,
            },
        );
        etag
    }

    /// A render that did not give a page to keep: the next request tries again.
    fn release(&self, key: &str) {
        if let Ok(mut pages) = self.pages.lock() {
            if let Some(entry) = pages.get_mut(key) {
                entry.refreshing = false;
            }
        }
    }

    /// Forgets every page, after a write through this server.
    pub fn clear(&self) {
        if let Ok(mut pages) = self.pages.lock() {
            pages.clear();
        }
    }
}

impl Entry {
    fn response(&self, if_none_match: Option<&HeaderValue>) -> Response {
        if if_none_match.is_some_and(|tags| matches_etag(tags, &self.etag)) {
            return not_modified(self.etag.clone());
        }
        let mut response = Body::from(self.body.clone()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, self.content_type.clone());
        headers.insert(header::ETAG, self.etag.clone());
        headers.insert(header::CACHE_CONTROL, cache_control());
        response
    }
}

/// Serves cacheable pages from the cache and keeps what is rendered; empties the cache after
/// any request that may write. Runs inside the language middleware, which has chosen the
/// language by then.
pub async fn middleware(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    if method != Method::GET && method != Method::HEAD {
        let response = next.run(request).await;
        state.pages.clear();
        return response;
    }
    if !state.pages.enabled || !cacheable(request.uri().path()) {
        return next.run(request).await;
    }
    let lang = request
        .extensions()
        .get::<Lang>()
        .copied()
        .unwrap_or(Lang::En);
    let key = format!("{} {} {}", lang.code(), method, request.uri());
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    if let Lookup::Fresh(response) = state.pages.lookup(&key, if_none_match.as_ref()) {
        return response;
    }
    let response = next.run(request).await;
    let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
    let (Some(content_type), StatusCode::OK) = (content_type, response.status()) else {
        state.pages.release(&key);
        return response;
    };
    let (mut parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, MAX_PAGE_BYTES).await {
        Ok(body) => body,
        Err(error) => {
            // A page too large to keep cannot be sent either once read this far.
            state.pages.release(&key);
            tracing::error!(?error, "reading a rendered page");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let etag = state.pages.store(key, content_type, body.clone());
    if if_none_match.is_some_and(|tags| matches_etag(&tags, &etag)) {
        return not_modified(etag);
    }
    parts.headers.insert(header::ETAG, etag);
    parts.headers.insert(header::CACHE_CONTROL, cache_control());
    Response::from_parts(parts, Body::from(body))
}

/// The public pages whose content depends only on the URL, the language and the data.
fn cacheable(path: &str) -> bool {
    matches!(
        path,
        "/" | "/projects" | "/partners" | "/partnerships" | "/funding"
    ) || [
        "/projects/",
        "/partners/",
        "/countries/",
        "/policy-areas/",
        "/partnerships/",
    ]
    .iter()
    .any(|prefix| path.starts_with(prefix))
}

/// Browsers may keep a page as long as this server does, then ask again with its `ETag`.
fn cache_control() -> HeaderValue {
    HeaderValue::from_static("public, max-age=5")
}

/// A strong validator from the body's bytes.
pub(crate) fn etag(body: &[u8]) -> HeaderValue {
    let mut hasher = std::hash::DefaultHasher::new();
    body.hash(&mut hasher);
    HeaderValue::from_str(&format!("\"{:016x}\"", hasher.finish()))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

/// `If-None-Match` holds `*` or a list of tags, weak or strong.
pub(crate) fn matches_etag(tags: &HeaderValue, etag: &HeaderValue) -> bool {
    let Ok(tags) = tags.to_str() else {
        return false;
    };
    let etag = etag.to_str().unwrap_or_default();
    tags.split(',')
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == etag)
}

pub(crate) fn not_modified(etag: HeaderValue) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    response.headers_mut().insert(header::ETAG, etag);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, cache_control());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html() -> HeaderValue {
        HeaderValue::from_static("text/html; charset=utf-8")
    }

    #[test]
    fn a_kept_page_is_served_until_a_write_clears_it() {
        let cache = PageCache::default();
        assert!(matches!(cache.lookup("en GET /", None), Lookup::Render));
        let etag = cache.store(
            "en GET /".to_owned(),
            html(),
            Bytes::from_static(b"<p>1</p>"),
        );
        let Lookup::Fresh(response) = cache.lookup("en GET /", None) else {
            panic!("the page was kept");
        };
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::ETAG], etag);
        // Another language is another page.
        assert!(matches!(cache.lookup("fr GET /", None), Lookup::Render));
        // A browser holding the same copy is told it has not changed.
        let Lookup::Fresh(response) = cache.lookup("en GET /", Some(&etag)) else {
            panic!("the page was kept");
        };
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        cache.clear();
        assert!(matches!(cache.lookup("en GET /", None), Lookup::Render));
    }

    #[test]
    fn a_disabled_cache_keeps_nothing_and_private_pages_are_never_kept() {
        assert!(!PageCache::disabled().enabled);
        assert!(cacheable("/") && cacheable("/projects/XI-1") && cacheable("/countries/KE"));
        for path in [
            "/contact",
            "/projects.csv",
            "/projects.xml",
            "/staff/inquiries",
        ] {
            assert!(!cacheable(path), "{path}");
        }
    }

    #[test]
    fn etags_differ_with_the_body_and_match_weak_or_listed_tags() {
        let one = etag(b"one");
        assert_ne!(one, etag(b"two"));
        let listed = HeaderValue::from_str(&format!("\"x\", W/{}", one.to_str().unwrap())).unwrap();
        assert!(matches_etag(&listed, &one));
        assert!(!matches_etag(&HeaderValue::from_static("\"x\""), &one));
    }
}
