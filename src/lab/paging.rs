//! Server-side paging: opaque `$skiptoken`s and the `@odata.nextLink` that carries them.
//!
//! Collections keyed by id page by "after this id", so objects created or deleted while a client pages
//! never make it see an object twice or skip one that existed throughout. Sub-collections without
//! stable keys (a policy's settings) page by position.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Where the next page starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cursor {
    /// After the object with this id.
    After(String),
    /// At this position.
    Offset(usize),
}

/// A `$skiptoken` the lab did not issue.
#[derive(Debug, PartialEq, Eq)]
pub struct InvalidSkipToken;

const AFTER: &str = "after:";
const OFFSET: &str = "offset:";
/// Marks tokens as the lab's, the way Graph's carry their backend's name.
const PREFIX: &str = "lab1.";

impl Cursor {
    pub fn encode(&self) -> String {
        let plain = match self {
            Cursor::After(id) => format!("{AFTER}{id}"),
            Cursor::Offset(offset) => format!("{OFFSET}{offset}"),
        };
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(plain))
    }

    pub fn decode(token: &str) -> Result<Cursor, InvalidSkipToken> {
        let encoded = token.strip_prefix(PREFIX).ok_or(InvalidSkipToken)?;
        let bytes = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| InvalidSkipToken)?;
        let plain = String::from_utf8(bytes).map_err(|_| InvalidSkipToken)?;
        if let Some(id) = plain.strip_prefix(AFTER) {
            return Ok(Cursor::After(id.to_string()));
        }
        let offset = plain.strip_prefix(OFFSET).ok_or(InvalidSkipToken)?;
        offset.parse().map(Cursor::Offset).map_err(|_| InvalidSkipToken)
    }
}

/// One page of `(id, item)` pairs taken from an id-ordered sequence: at most `size` items, and the
/// cursor of the next page when more items follow.
pub fn page_after<'a, T>(items: impl Iterator<Item = (&'a str, T)>, size: usize) -> (Vec<T>, Option<Cursor>) {
    let mut page = Vec::with_capacity(size.min(1024));
    let mut last_id = None;
    let mut items = items.peekable();
    while page.len() < size {
        let Some((id, item)) = items.next() else { break };
        last_id = Some(id);
        page.push(item);
    }
    let next = match (items.peek(), last_id) {
        (Some(_), Some(id)) => Some(Cursor::After(id.to_string())),
        _ => None,
    };
    (page, next)
}

/// The range of positions of one page of a sequence of `len` items, and the next page's cursor.
pub fn page_at(len: usize, offset: usize, size: usize) -> (std::ops::Range<usize>, Option<Cursor>) {
    let start = offset.min(len);
    let end = start.saturating_add(size).min(len);
    (start..end, (end < len).then_some(Cursor::Offset(end)))
}

/// `@odata.nextLink`: the request's own absolute URL with the skip token replaced, so that a client
/// following it verbatim gets the next page with the same options.
pub fn next_link(base_url: &str, path: &str, query: &[(String, String)], cursor: &Cursor) -> String {
    let mut link = format!("{base_url}{path}?");
    for (key, value) in query.iter().filter(|(key, _)| !is_skip_token(key)) {
        link.push_str(&encode(key));
        link.push('=');
        link.push_str(&encode(value));
        link.push('&');
    }
    link.push_str("$skiptoken=");
    link.push_str(&cursor.encode());
    link
}

pub fn is_skip_token(key: &str) -> bool {
    key.eq_ignore_ascii_case("$skiptoken") || key.eq_ignore_ascii_case("skiptoken")
}

/// Percent-encodes a query key or value, keeping the characters OData queries are read with.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'$' | b',' | b'(' | b')' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_foreign_tokens_are_refused() {
        for cursor in [Cursor::After("3ffd7cd0-7cd0".into()), Cursor::After(String::new()), Cursor::Offset(75)] {
            assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor));
        }
        for token in ["", "abc", "lab1.!!!", "%5Bcosmosdb%5D", &format!("lab1.{}", URL_SAFE_NO_PAD.encode("offset:x"))]
        {
            assert_eq!(Cursor::decode(token), Err(InvalidSkipToken), "{token}");
        }
    }

    #[test]
    fn pages_after_an_id_cover_everything_once() {
        let ids: Vec<String> = (0..7).map(|i| format!("id{i}")).collect();
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let items = ids.iter().filter(|id| after.as_ref().is_none_or(|a| *id > a)).map(|id| (id.as_str(), id));
            let (page, next) = page_after(items, 3);
            assert!(page.len() <= 3);
            seen.extend(page.into_iter().cloned());
            match next {
                Some(Cursor::After(id)) => after = Some(id),
                Some(other) => panic!("unexpected {other:?}"),
                None => break,
            }
        }
        assert_eq!(seen, ids);
        let (page, next) = page_after(ids.iter().map(|id| (id.as_str(), id)), 7);
        assert_eq!((page.len(), next), (7, None), "no next page when the last page is exactly full");
    }

    #[test]
    fn pages_at_positions() {
        assert_eq!(page_at(5, 0, 2), (0..2, Some(Cursor::Offset(2))));
        assert_eq!(page_at(5, 4, 2), (4..5, None));
        assert_eq!(page_at(5, 9, 2), (5..5, None));
        assert_eq!(page_at(0, 0, 25), (0..0, None));
    }

    #[test]
    fn next_link_keeps_the_other_options_and_replaces_the_token() {
        let query = vec![
            ("$expand".to_string(), "settings,assignments".to_string()),
            ("$skiptoken".to_string(), "old".to_string()),
            ("$filter".to_string(), "displayName eq 'O''Brien & Co'".to_string()),
        ];
        let link = next_link("http://127.0.0.1:1", "/beta/groups", &query, &Cursor::Offset(2));
        assert_eq!(
            link,
            format!(
                "http://127.0.0.1:1/beta/groups?$expand=settings,assignments&$filter=displayName%20eq%20%27O%27%27Brien%20%26%20Co%27&$skiptoken={}",
                Cursor::Offset(2).encode()
            )
        );
    }
}
