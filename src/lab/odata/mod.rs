//! The OData system query options of a Graph request: `$top`, `$skip`, `$skiptoken`, `$count`,
//! `$expand`, `$select`, `$filter`, `$orderby` and `$search`. Like Graph, option names may be written
//! with or without `$` and in any case. An option the lab does not know, or one an endpoint does not
//! support, is refused with 400 as Graph refuses it — never ignored.

mod filter;
mod value;

use std::cmp::Ordering;

use serde_json::{Map, Value};

pub use filter::Filter;
use value::{lookup, order};

/// Query options of one request, decoded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueryOptions {
    /// Every pair as sent (decoded), to build `@odata.nextLink` from.
    pub pairs: Vec<(String, String)>,
    pub top: Option<usize>,
    pub skip: Option<usize>,
    pub skip_token: Option<String>,
    /// `$count=true`.
    pub count: bool,
    pub expand: Vec<String>,
    pub select: Option<Vec<String>>,
    pub filter: Option<Filter>,
    pub order_by: Vec<OrderBy>,
    pub search: Option<String>,
}

/// One key of `$orderby`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderBy {
    pub path: Vec<String>,
    pub descending: bool,
}

/// Why the query options are unusable; the text is Graph's kind of message.
#[derive(Debug, PartialEq, Eq)]
pub struct QueryError(pub String);

/// The options an endpoint honours beyond `$top`, `$skiptoken` and `$select`, which every collection
/// honours. (`$expand` is checked by each endpoint against the relations it has.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Supported {
    pub filter: bool,
    pub order_by: bool,
    pub skip: bool,
    pub count: bool,
    pub search: bool,
}

impl Supported {
    /// What a collection endpoint honours: everything but `$search`.
    pub const COLLECTION: Supported =
        Supported { filter: true, order_by: true, skip: true, count: true, search: false };
    /// What a single entity honours: `$select` and `$expand` only.
    pub const ENTITY: Supported =
        Supported { filter: false, order_by: false, skip: false, count: false, search: false };
}

pub fn parse_query(raw: Option<&str>) -> Result<QueryOptions, QueryError> {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect();
    let mut options = QueryOptions::default();
    for (key, value) in &pairs {
        let dollar = key.starts_with('$');
        let name = key.strip_prefix('$').unwrap_or(key).to_ascii_lowercase();
        match name.as_str() {
            "top" => options.top = Some(positive(key, value, 1)?),
            "skip" => options.skip = Some(positive(key, value, 0)?),
            "skiptoken" => options.skip_token = Some(value.clone()),
            "count" => {
                options.count = match value.trim().to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(QueryError(format!("Invalid value '{value}' for query option '$count'."))),
                }
            }
            "expand" => options.expand = list(value),
            "select" => options.select = Some(list(value)),
            "filter" => options.filter = Some(Filter::parse(value).map_err(QueryError)?),
            "orderby" => options.order_by = parse_order_by(value)?,
            "search" => options.search = Some(value.clone()),
            // A `$` name is a system query option, and Graph refuses one it does not know; other names
            // are the caller's own parameters, which Graph passes over.
            _ if dollar => return Err(QueryError(format!("The query parameter '{key}' is not supported."))),
            _ => {}
        }
    }
    options.pairs = pairs;
    Ok(options)
}

impl QueryOptions {
    /// Refuses an option the endpoint does not honour, in the words of Graph's OData layer.
    pub fn check(&self, supported: Supported) -> Result<(), QueryError> {
        let refused = [
            ("Filter", self.filter.is_some() && !supported.filter),
            ("OrderBy", !self.order_by.is_empty() && !supported.order_by),
            ("Skip", self.skip.is_some() && !supported.skip),
            ("Count", self.count && !supported.count),
            ("Search", self.search.is_some() && !supported.search),
        ];
        match refused.into_iter().find(|(_, refused)| *refused) {
            None => Ok(()),
            Some((name, _)) => Err(QueryError(format!(
                "The query specified in the URI is not valid. Query option '{name}' is not allowed. To allow it, set the 'AllowedQueryOptions' property on EnableQueryAttribute or QueryValidationSettings."
            ))),
        }
    }

    /// Whether results are sorted or skipped, so that pages are positions in the sorted result
    /// rather than "after this id".
    pub fn positional(&self) -> bool {
        !self.order_by.is_empty() || self.skip.is_some()
    }

    /// Sorts objects by `$orderby` (stable: equal keys keep their order).
    pub fn sort<T>(&self, items: &mut [T], object: impl Fn(&T) -> &Map<String, Value>) {
        if self.order_by.is_empty() {
            return;
        }
        items.sort_by(|a, b| {
            let (a, b) = (object(a), object(b));
            self.order_by
                .iter()
                .map(|key| {
                    let (x, y) =
                        (lookup(a, &key.path).unwrap_or(&Value::Null), lookup(b, &key.path).unwrap_or(&Value::Null));
                    let ordering = order(x, y);
                    if key.descending { ordering.reverse() } else { ordering }
                })
                .find(|o| *o != Ordering::Equal)
                .unwrap_or(Ordering::Equal)
        });
    }
}

fn positive(key: &str, value: &str, least: usize) -> Result<usize, QueryError> {
    match value.trim().parse::<usize>() {
        Ok(n) if n >= least => Ok(n),
        _ => Err(QueryError(format!("Invalid value '{value}' for query option '{key}'."))),
    }
}

fn list(value: &str) -> Vec<String> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

fn parse_order_by(value: &str) -> Result<Vec<OrderBy>, QueryError> {
    let mut keys = Vec::new();
    for item in value.split(',') {
        let words: Vec<&str> = item.split_whitespace().collect();
        let descending = match words.as_slice() {
            [_] => false,
            [_, direction] if direction.eq_ignore_ascii_case("asc") => false,
            [_, direction] if direction.eq_ignore_ascii_case("desc") => true,
            _ => return Err(QueryError(format!("Invalid $orderby clause '{}'.", item.trim()))),
        };
        let path = words[0];
        if !path.chars().all(|c| c.is_alphanumeric() || matches!(c, '/' | '_' | '@' | '.')) {
            return Err(QueryError(format!("Invalid $orderby clause '{}'.", item.trim())));
        }
        keys.push(OrderBy { path: path.split('/').map(str::to_string).collect(), descending });
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_with_or_without_dollar_in_any_case() {
        let options = parse_query(Some(
            "%24top=5&EXPAND=settings,%20assignments&$skiptoken=abc&$filter=displayName%20eq%20%27A%27&$count=true&skip=2",
        ))
        .expect("parse");
        assert_eq!(options.top, Some(5));
        assert_eq!(options.skip, Some(2));
        assert!(options.count);
        assert_eq!(options.expand, ["settings", "assignments"]);
        assert_eq!(options.skip_token.as_deref(), Some("abc"));
        assert!(options.filter.is_some());
        assert_eq!(options.pairs.len(), 6);
        assert!(parse_query(Some("$top=0")).is_err());
        assert!(parse_query(Some("$top=x")).is_err());
        assert!(parse_query(Some("$count=yes")).is_err());
        assert_eq!(parse_query(None).expect("empty"), QueryOptions::default());
    }

    #[test]
    fn unknown_system_options_are_refused_and_custom_parameters_pass() {
        let refused = parse_query(Some("$apply=groupby((x))")).expect_err("refused");
        assert_eq!(refused.0, "The query parameter '$apply' is not supported.");
        assert!(parse_query(Some("api-version=2024-10-01")).is_ok());
        let search = parse_query(Some("$search=%22displayName:x%22")).expect("parsed");
        let refused = search.check(Supported::COLLECTION).expect_err("no search");
        assert!(refused.0.contains("Query option 'Search' is not allowed"), "{}", refused.0);
        let skip = parse_query(Some("$skip=1")).expect("parsed");
        assert!(skip.check(Supported::COLLECTION).is_ok());
        assert!(skip.check(Supported::ENTITY).is_err());
    }

    #[test]
    fn order_by_sorts_by_several_keys() {
        let options = parse_query(Some("$orderby=severity desc, displayName")).expect("parse");
        let mut items = [
            json!({"severity": "high", "displayName": "b"}),
            json!({"severity": "low", "displayName": "a"}),
            json!({"severity": "high", "displayName": "A"}),
        ];
        options.sort(&mut items, |v| v.as_object().expect("object"));
        let names: Vec<&str> = items.iter().map(|v| v["displayName"].as_str().expect("name")).collect();
        // Severity names sort as text ("low" after "high"); within one severity, names ignore case.
        assert_eq!(names, ["a", "A", "b"]);
        assert!(parse_query(Some("$orderby=name sideways")).is_err());
    }
}
