//! Cursor paging, ETags and caching, the same for every API answer.
//!
//! A cursor is opaque to clients: it holds where the next page starts, the page size, and a
//! fingerprint of the query it belongs to, so that a cursor sent with other filters is refused
//! (naming `cursor`) instead of silently paging through another list. Lists are in a stable
//! order (the identifier or key breaks every tie), so a cursor's next page follows on from its
//! page as long as the data does not change; a change shows as a new ETag.
//!
//! Every 200 carries a strong ETag, the SHA-256 of the body it describes, so `If-None-Match`
//! gets a 304 exactly when the bytes would be the same, whatever changed in between.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::problem::ApiError;

/// The page size when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = 50;
/// The largest `limit`: the explorer's store query reads at most this many rows a page.
pub const MAX_LIMIT: u32 = 500;

/// Where a page starts and how long it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging {
    pub offset: u64,
    pub limit: u32,
    /// The query this page belongs to, without `cursor` and `limit`.
    fingerprint: String,
    /// The request's path and its other parameters, for the next page's link.
    path: String,
    others: Vec<(String, String)>,
}

impl Paging {
    /// The paging a request asks for: `limit` (1 to 500) and `cursor` from its query string.
    pub fn from_uri(uri: &Uri) -> Result<Paging, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or(""))
            .map_err(|error| ApiError::bad_parameter("query", error.to_string()))?;
        let mut limit = None;
        let mut cursor = None;
        let mut others = Vec::new();
        for (name, value) in pairs {
            match name.as_str() {
                "limit" if !value.trim().is_empty() => limit = Some(value),
                "cursor" if !value.trim().is_empty() => cursor = Some(value),
                "limit" | "cursor" => {}
                _ if value.is_empty() => {}
                _ => others.push((name, value)),
            }
        }
        let mut sorted = others.clone();
        sorted.sort();
        let fingerprint = short_hash(&serde_urlencoded::to_string(&sorted).unwrap_or_default());
        let limit = limit
            .map(|text| match text.trim().parse::<u32>() {
                Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => Ok(limit),
                _ => Err(ApiError::bad_parameter(
                    "limit",
                    format!("'{text}' is not a page size: expected a whole number from 1 to {MAX_LIMIT}"),
                )),
            })
            .transpose()?;
        let (offset, limit) = match cursor {
            None => (0, limit.unwrap_or(DEFAULT_LIMIT)),
            Some(cursor) => {
                let (offset, cursor_limit, cursor_fingerprint) =
                    decode(&cursor).ok_or_else(|| {
                        ApiError::bad_parameter(
                            "cursor",
                            "not a cursor this API gave: use the `next` link of the previous page",
                        )
                    })?;
                if cursor_fingerprint != fingerprint {
                    return Err(ApiError::bad_parameter(
                        "cursor",
                        "this cursor belongs to a query with other parameters: use the `next` link as given",
                    ));
                }
                if limit.is_some_and(|limit| limit != cursor_limit) {
                    return Err(ApiError::bad_parameter(
                        "limit",
                        format!("the cursor was made for pages of {cursor_limit}; keep that limit or start again without a cursor"),
                    ));
                }
                (offset, cursor_limit)
            }
        };
        Ok(Paging {
            offset,
            limit,
            fingerprint,
            path: uri.path().to_owned(),
            others,
        })
    }

    /// The link to the page after this one, when `total` goes beyond it.
    pub fn next(&self, total: u64) -> Option<String> {
        let next_offset = self.offset + u64::from(self.limit);
        if next_offset >= total {
            return None;
        }
        let mut pairs = self.others.clone();
        pairs.push(("limit".to_owned(), self.limit.to_string()));
        pairs.push((
            "cursor".to_owned(),
            encode(next_offset, self.limit, &self.fingerprint),
        ));
        Some(format!(
            "{}?{}",
            self.path,
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        ))
    }

    /// Where this page falls in a list of `len` items held whole.
    fn range(&self, len: usize) -> std::ops::Range<usize> {
        let start = (self.offset as usize).min(len);
        let end = start.saturating_add(self.limit as usize).min(len);
        start..end
    }
}

/// One page of a list: the items, how many there are in all, and the link to the next page.
#[derive(Debug, Clone, Serialize)]
pub struct Listing<T: Serialize, M: Serialize> {
    pub data: Vec<T>,
    pub total: u64,
    pub limit: u32,
    /// The next page's URL, or null on the last page.
    pub next: Option<String>,
    /// What the list needs said about it: method notes, what was withheld.
    pub meta: M,
}

impl<T: Serialize, M: Serialize> Listing<T, M> {
    pub fn new(data: Vec<T>, total: u64, paging: &Paging, meta: M) -> Listing<T, M> {
        Listing {
            data,
            total,
            limit: paging.limit,
            next: paging.next(total),
            meta,
        }
    }

    /// The page `paging` asks for of a list read whole, the whole list's length its total.
    /// The list is cut in place rather than copied.
    pub fn page_of(mut items: Vec<T>, paging: &Paging, meta: M) -> Listing<T, M> {
        let total = items.len() as u64;
        let range = paging.range(items.len());
        items.truncate(range.end);
        items.drain(..range.start);
        Listing::new(items, total, paging, meta)
    }
}

/// Who an answer may be cached for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The same for everyone: shared caches may keep it for a minute.
    Public,
    /// Shaped by the caller's token: only the caller's own cache, and checked every time.
    Private,
}

/// A JSON answer with its ETag, caching headers and `Link`, or a 304 when the client's copy
/// (`If-None-Match`) is this one.
pub fn json<T: Serialize>(
    request_headers: &HeaderMap,
    status: StatusCode,
    body: &T,
    audience: Audience,
    next: Option<&str>,
) -> Result<Response, ApiError> {
    let bytes = to_json(body)?;
    let etag = etag_of(&bytes);
    let cache_control = match audience {
        Audience::Public => "public, max-age=60",
        Audience::Private => "private, no-cache",
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Authorization, Accept-Language"),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    if let Some(next) = next {
        if let Ok(value) = HeaderValue::from_str(&format!("<{next}>; rel=\"next\"")) {
            headers.insert(header::LINK, value);
        }
    }
    if status == StatusCode::OK && matches_etag(request_headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok((status, headers, bytes).into_response())
}

/// The ETag the answer `body` gets: what a client that read the record holds, and so what
/// its `If-Match` must name for a write to go through.
pub fn etag<T: Serialize>(body: &T) -> Result<String, ApiError> {
    Ok(etag_of(&to_json(body)?))
}

fn to_json<T: Serialize>(body: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(body).map_err(|error| {
        ApiError::Store(coopfolio_store::StoreError::InvalidStoredValue {
            operation: "writing an API answer",
            detail: error.to_string(),
        })
    })
}

fn etag_of(bytes: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(bytes)[..16]))
}

/// Refuses a write whose `If-Match` names none of the record's current ETag (`current`,
/// None when there is no record). The comparison is strong, as RFC 9110 asks for `If-Match`:
/// a weak tag never matches. Without `If-Match` the write goes through.
pub fn check_if_match(request_headers: &HeaderMap, current: Option<&str>) -> Result<(), ApiError> {
    let mut tags = request_headers
        .get_all(header::IF_MATCH)
        .iter()
        .map(|value| value.to_str().unwrap_or(""))
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .peekable();
    if tags.peek().is_none() {
        return Ok(());
    }
    let matched = tags.any(|tag| match current {
        Some(current) => tag == "*" || tag == current,
        None => false,
    });
    if matched {
        Ok(())
    } else {
        Err(ApiError::PreconditionFailed)
    }
}

/// Whether `If-None-Match` names this ETag (or `*`). The comparison is weak, as RFC 9110 asks
/// for `If-None-Match`: a `W/` before a tag does not stop it matching.
fn matches_etag(request_headers: &HeaderMap, etag: &str) -> bool {
    request_headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == etag)
}

fn short_hash(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..6])
}

fn encode(offset: u64, limit: u32, fingerprint: &str) -> String {
    hex::encode(format!("v1:{offset}:{limit}:{fingerprint}"))
}

fn decode(cursor: &str) -> Option<(u64, u32, String)> {
    let text = String::from_utf8(hex::decode(cursor.trim()).ok()?).ok()?;
    let mut parts = text.split(':');
    if parts.next()? != "v1" {
        return None;
    }
    let offset = parts.next()?.parse().ok()?;
    let limit = parts
        .next()?
        .parse()
        .ok()
        .filter(|l| (1..=MAX_LIMIT).contains(l))?;
    let fingerprint = parts.next()?.to_owned();
    parts
        .next()
        .is_none()
        .then_some((offset, limit, fingerprint))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paging(uri: &str) -> Result<Paging, ApiError> {
        Paging::from_uri(&uri.parse().unwrap())
    }

    #[test]
    fn the_next_link_carries_the_filters_and_a_cursor_that_reads_back() {
        let first = paging("/api/v1/projects?country=KE&limit=2").unwrap();
        assert_eq!((first.offset, first.limit), (0, 2));
        let next = first.next(5).unwrap();
        assert!(
            next.starts_with("/api/v1/projects?country=KE&limit=2&cursor="),
            "{next}"
        );
        let second = paging(&next).unwrap();
        assert_eq!((second.offset, second.limit), (2, 2));
        let third = paging(&second.next(5).unwrap()).unwrap();
        assert_eq!(third.offset, 4);
        assert_eq!(third.next(5), None);
        let last = Listing::page_of(vec![1, 2, 3, 4, 5], &third, ());
        assert_eq!((last.data, last.total), (vec![5], 5));
    }

    #[test]
    fn a_cursor_with_other_filters_or_a_forged_one_is_refused_by_name() {
        let next = paging("/api/v1/projects?country=KE&limit=2")
            .unwrap()
            .next(10)
            .unwrap();
        let moved = next.replace("country=KE", "country=SN");
        for (uri, parameter) in [
            (moved.as_str(), "cursor"),
            ("/api/v1/projects?cursor=zz", "cursor"),
            ("/api/v1/projects?limit=0", "limit"),
            ("/api/v1/projects?limit=501", "limit"),
        ] {
            match paging(uri) {
                Err(ApiError::BadParameter {
                    parameter: named, ..
                }) => {
                    assert_eq!(named, parameter, "{uri}")
                }
                other => panic!("{uri}: {other:?}"),
            }
        }
        let changed_limit = next.replace("limit=2", "limit=3");
        assert!(matches!(
            paging(&changed_limit),
            Err(ApiError::BadParameter {
                parameter: "limit",
                ..
            })
        ));
    }

    #[test]
    fn if_match_is_strong_and_absent_lets_the_write_through() {
        let current = "\"abc\"";
        assert!(check_if_match(&HeaderMap::new(), Some(current)).is_ok());
        for (given, matches) in [
            ("\"abc\"", true),
            ("\"x\", \"abc\"", true),
            ("*", true),
            ("W/\"abc\"", false),
            ("\"abd\"", false),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(header::IF_MATCH, HeaderValue::from_static(given));
            assert_eq!(
                check_if_match(&headers, Some(current)).is_ok(),
                matches,
                "{given}"
            );
            // With no record, nothing matches, not even `*`.
            assert!(check_if_match(&headers, None).is_err(), "{given}");
        }
    }

    #[test]
    fn if_none_match_matches_strong_weak_and_any() {
        let etag = "\"abc\"";
        for (given, matches) in [
            ("\"abc\"", true),
            ("W/\"abc\"", true),
            ("\"x\", \"abc\"", true),
            ("*", true),
            ("\"abcd\"", false),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static(given));
            assert_eq!(matches_etag(&headers, etag), matches, "{given}");
        }
        assert!(!matches_etag(&HeaderMap::new(), etag));
    }
}
