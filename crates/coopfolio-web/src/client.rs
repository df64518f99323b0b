//! Who sent a request, as far as the form's rate limit and its cross-site check need to know:
//! the client's address, and whether a POST came from one of our own pages.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::header::{self, HeaderMap};
use axum::http::Extensions;

/// The address a request's sends are counted under.
///
/// It is the socket peer, which `serve` records for every connection. Behind a reverse proxy
/// every peer is the proxy, so when `behind_proxy` is set the first `X-Forwarded-For` hop is
/// used instead; that hop is whatever the client wrote unless the proxy replaces the header
/// (nginx: `proxy_set_header X-Forwarded-For $remote_addr;`), which is why it is trusted only
/// when the setting says so. A request with neither (a router driven in-process, as the tests
/// drive it) counts as `unknown`: one shared allowance is a sounder fallback than none.
///
/// An IPv6 client usually holds a whole /64 and can change the rest at will, so IPv6 sends are
/// counted per /64 network.
pub fn client_address(headers: &HeaderMap, extensions: &Extensions, behind_proxy: bool) -> String {
    let forwarded = behind_proxy
        .then(|| headers.get("x-forwarded-for"))
        .flatten()
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(',').next())
        .and_then(|hop| hop.trim().parse::<IpAddr>().ok());
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip());
    match forwarded.or(peer) {
        Some(IpAddr::V4(address)) => address.to_string(),
        Some(IpAddr::V6(address)) => match address.to_ipv4_mapped() {
            Some(address) => address.to_string(),
            None => {
                let segments = address.segments();
                format!(
                    "{:x}:{:x}:{:x}:{:x}::/64",
                    segments[0], segments[1], segments[2], segments[3]
                )
            }
        },
        None => "unknown".to_owned(),
    }
}

/// Whether a form POST came from a page of this site, as far as the browser says.
///
/// The contact form is public and anonymous: it sets no cookie and opens no session, so
/// there is no login for another site to ride on, and any cookie added later must be
/// `SameSite`. What remains is another site making its visitors' browsers send inquiries in
/// their name, which browsers reveal through `Origin` (sent with every cross-site POST by
/// current browsers) or else `Referer`. So: when either is present, its host and port must be
/// the `Host` the request was sent to; when neither is (a script, an old browser, a privacy
/// setting), the request is let through, as it cannot be told apart from a direct one.
pub fn same_origin(headers: &HeaderMap, behind_proxy: bool) -> bool {
    let host = behind_proxy
        .then(|| headers.get("x-forwarded-host"))
        .flatten()
        .or_else(|| headers.get(header::HOST))
        .and_then(|value| value.to_str().ok());
    let claimed = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|value| value.to_str().ok());
    match (claimed, host) {
        (None, _) => true,
        (Some(claimed), Some(host)) => authority(claimed).is_some_and(|of| of == host),
        // A browser names the page it came from but the request names no host: nothing to
        // compare with, so it is not ours to trust.
        (Some(_), None) => false,
    }
}

/// The `host[:port]` of an absolute http(s) URL or origin; `None` for anything else,
/// including the `null` origin of sandboxed frames and files.
fn authority(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    // Credentials in a URL are no part of where it points.
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    (!authority.is_empty()).then_some(authority)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        headers
    }

    fn peer(address: &str) -> Extensions {
        let mut extensions = Extensions::new();
        extensions.insert(ConnectInfo(address.parse::<SocketAddr>().unwrap()));
        extensions
    }

    #[test]
    fn the_peer_counts_unless_the_proxy_setting_is_on() {
        let forwarded = headers(&[("x-forwarded-for", "203.0.113.7, 10.0.0.2")]);
        let extensions = peer("10.0.0.1:5000");
        assert_eq!(client_address(&forwarded, &extensions, false), "10.0.0.1");
        assert_eq!(client_address(&forwarded, &extensions, true), "203.0.113.7");
        // A proxy that sent no header, or a garbled one, leaves the peer.
        assert_eq!(client_address(&headers(&[]), &extensions, true), "10.0.0.1");
        let garbled = headers(&[("x-forwarded-for", "not an address")]);
        assert_eq!(client_address(&garbled, &extensions, true), "10.0.0.1");
        assert_eq!(
            client_address(&headers(&[]), &Extensions::new(), false),
            "unknown"
        );
    }

    #[test]
    fn ipv6_clients_count_per_network() {
        let one = client_address(&headers(&[]), &peer("[2001:db8:1:2::5]:443"), false);
        let other = client_address(&headers(&[]), &peer("[2001:db8:1:2:ffff::9]:443"), false);
        assert_eq!(one, "2001:db8:1:2::/64");
        assert_eq!(one, other);
        assert_eq!(
            client_address(&headers(&[]), &peer("[::ffff:192.0.2.1]:80"), false),
            "192.0.2.1"
        );
    }

    #[test]
    fn only_our_own_pages_may_post() {
        let host = ("host", "portal.example:8080");
        assert!(same_origin(
            &headers(&[host, ("origin", "http://portal.example:8080")]),
            false
        ));
        assert!(same_origin(
            &headers(&[host, ("referer", "https://portal.example:8080/contact?x=1")]),
            false
        ));
        assert!(same_origin(&headers(&[host]), false));
        assert!(!same_origin(
            &headers(&[host, ("origin", "https://elsewhere.example")]),
            false
        ));
        assert!(!same_origin(&headers(&[host, ("origin", "null")]), false));
        // The port is part of the origin.
        assert!(!same_origin(
            &headers(&[host, ("origin", "http://portal.example")]),
            false
        ));
        // Behind a proxy the public host is the forwarded one.
        let proxied = headers(&[
            ("host", "127.0.0.1:8080"),
            ("x-forwarded-host", "portal.example"),
            ("origin", "https://portal.example"),
        ]);
        assert!(same_origin(&proxied, true));
        assert!(!same_origin(&proxied, false));
    }
}
