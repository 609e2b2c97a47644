//! The lab's address as a client sees it, for the absolute URLs it answers with (`@odata.nextLink`,
//! `@odata.context`, the discovery documents): the request's scheme and host, or those a proxy in
//! front of the lab says the client used (`Forwarded`, `X-Forwarded-Proto`/`-Host`).

use axum::http::{HeaderMap, header};

/// `scheme://host[:port]` as the client addressed the lab. `tls` is whether the lab itself serves
/// HTTPS; `own_host` stands in for a request without `Host`.
pub fn request_base(headers: &HeaderMap, tls: bool, own_host: &str) -> String {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let forwarded = text(header::FORWARDED.as_str()).map(forwarded_pairs).unwrap_or_default();
    let from_forwarded =
        |key: &str| forwarded.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.clone());
    // Of a list of proxies, the first entry is the one facing the client.
    let first = |value: &str| value.split(',').next().unwrap_or_default().trim().to_string();
    let scheme = from_forwarded("proto")
        .or_else(|| text("x-forwarded-proto").map(first))
        .filter(|s| s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https"))
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_else(|| if tls { "https" } else { "http" }.to_string());
    let host = from_forwarded("host")
        .or_else(|| text("x-forwarded-host").map(first))
        .or_else(|| text(header::HOST.as_str()).map(str::to_string))
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'/' | b'\\' | b'@')))
        .unwrap_or_else(|| own_host.to_string());
    format!("{scheme}://{host}")
}

/// The `key=value` pairs of a `Forwarded` header's first element (RFC 7239), quotes removed.
fn forwarded_pairs(value: &str) -> Vec<(String, String)> {
    let element = value.split(',').next().unwrap_or_default();
    element
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn the_scheme_and_host_the_client_used() {
        assert_eq!(request_base(&headers(&[("host", "127.0.0.1:5")]), false, "x"), "http://127.0.0.1:5");
        assert_eq!(request_base(&headers(&[("host", "127.0.0.1:5")]), true, "x"), "https://127.0.0.1:5");
        assert_eq!(request_base(&HeaderMap::new(), false, "127.0.0.1:9"), "http://127.0.0.1:9");
        let proxied = headers(&[("host", "127.0.0.1:5"), ("x-forwarded-proto", "https")]);
        assert_eq!(request_base(&proxied, false, "x"), "https://127.0.0.1:5");
        let proxied = headers(&[
            ("host", "127.0.0.1:5"),
            ("forwarded", "for=1.2.3.4;proto=https;host=\"graph.microsoft.com\", for=5.6.7.8"),
        ]);
        assert_eq!(request_base(&proxied, false, "x"), "https://graph.microsoft.com");
        let odd = headers(&[("host", "a/b"), ("x-forwarded-proto", "gopher")]);
        assert_eq!(request_base(&odd, false, "own:1"), "http://own:1", "nonsense is not echoed into links");
    }
}
