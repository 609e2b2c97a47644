//! Which URLs tenantctl sends tokens and secrets to: https, or plain http on loopback (the lab).

use url::Url;

/// Parses an endpoint URL; anything but https is refused unless it is loopback, because tokens and
/// secrets travel to it. The error names `what` and the URL.
pub fn parse_endpoint(text: &str, what: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim_end_matches('/')).map_err(|e| format!("{what} `{text}`: {e}"))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(domain)) => domain == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(format!("{what} `{text}` must use https (plain http is accepted on loopback only)")),
    }
}
