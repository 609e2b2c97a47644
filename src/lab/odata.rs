//! The OData system query options the lab understands: `$top`, `$skiptoken`, `$expand`, `$select` and
//! a `$filter` subset (`property eq literal`, joined by `and`). Like Graph, option names may be written
//! with or without `$` and in any case.

use serde_json::{Map, Value};

/// Query options of one request, decoded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueryOptions {
    /// Every pair as sent (decoded), to build `@odata.nextLink` from.
    pub pairs: Vec<(String, String)>,
    pub top: Option<usize>,
    pub skip_token: Option<String>,
    pub expand: Vec<String>,
    pub select: Option<Vec<String>>,
    pub filter: Option<Filter>,
}

/// Why the query options are unusable; the text is Graph's kind of message.
#[derive(Debug, PartialEq, Eq)]
pub struct QueryError(pub String);

pub fn parse_query(raw: Option<&str>) -> Result<QueryOptions, QueryError> {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect();
    let mut options = QueryOptions::default();
    for (key, value) in &pairs {
        let name = key.strip_prefix('$').unwrap_or(key).to_ascii_lowercase();
        match name.as_str() {
            "top" => match value.trim().parse::<usize>() {
                Ok(top) if top > 0 => options.top = Some(top),
                _ => return Err(QueryError(format!("Invalid value '{value}' for query option '$top'."))),
            },
            "skiptoken" => options.skip_token = Some(value.clone()),
            "expand" => options.expand = list(value),
            "select" => options.select = Some(list(value)),
            "filter" => options.filter = Some(Filter::parse(value)?),
            _ => {}
        }
    }
    options.pairs = pairs;
    Ok(options)
}

fn list(value: &str) -> Vec<String> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// A conjunction of `path eq literal` comparisons. Strings compare without regard to letter case, as
/// Entra does for directory properties such as `displayName`.
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    comparisons: Vec<(Vec<String>, Value)>,
}

impl Filter {
    pub fn parse(text: &str) -> Result<Filter, QueryError> {
        let invalid = |why: &str| QueryError(format!("Invalid filter clause: {why}"));
        let tokens = tokenize(text).map_err(|why| invalid(&why))?;
        let mut comparisons = Vec::new();
        let mut rest = tokens.as_slice();
        loop {
            let [Token::Word(path), Token::Word(op), Token::Literal(value), tail @ ..] = rest else {
                return Err(invalid("expected `property eq 'value'`, optionally joined with `and`"));
            };
            if !op.eq_ignore_ascii_case("eq") {
                return Err(invalid(&format!("operator `{op}` is not supported, only `eq`")));
            }
            comparisons.push((path.split('/').map(str::to_string).collect(), value.clone()));
            match tail {
                [] => break,
                [Token::Word(and), more @ ..] if and.eq_ignore_ascii_case("and") => rest = more,
                _ => return Err(invalid("expected `and` between comparisons")),
            }
        }
        Ok(Filter { comparisons })
    }

    pub fn matches(&self, object: &Map<String, Value>) -> bool {
        self.comparisons.iter().all(|(path, expected)| {
            let mut node = object.get(&path[0]);
            for segment in &path[1..] {
                node = node.and_then(|n| n.get(segment));
            }
            match (node.unwrap_or(&Value::Null), expected) {
                (Value::String(actual), Value::String(expected)) => actual.eq_ignore_ascii_case(expected),
                (actual, expected) => actual == expected,
            }
        })
    }
}

#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Literal(Value),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '\'' {
            chars.next();
            let mut literal = String::new();
            loop {
                match chars.next() {
                    // A doubled quote is one quote inside the literal.
                    Some('\'') if chars.peek() == Some(&'\'') => {
                        chars.next();
                        literal.push('\'');
                    }
                    Some('\'') => break,
                    Some(other) => literal.push(other),
                    None => return Err("unterminated string literal".into()),
                }
            }
            tokens.push(Token::Literal(Value::String(literal)));
        } else if c.is_ascii_alphanumeric() || matches!(c, '_' | '/' | '.' | '-' | '@') {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if !(c.is_ascii_alphanumeric() || matches!(c, '_' | '/' | '.' | '-' | '@')) {
                    break;
                }
                word.push(c);
                chars.next();
            }
            let literal = match word.as_str() {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                "null" => Some(Value::Null),
                _ if word.starts_with(|c: char| c.is_ascii_digit() || c == '-') => serde_json::from_str(&word).ok(),
                _ => None,
            };
            tokens.push(literal.map_or(Token::Word(word), Token::Literal));
        } else {
            return Err(format!("unexpected character `{c}`"));
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().expect("object").clone()
    }

    #[test]
    fn string_literals_unescape_doubled_quotes() {
        let filter = Filter::parse("displayName eq 'O''Brien''s Devices'").expect("parse");
        assert!(filter.matches(&object(json!({"displayName": "O'Brien's Devices"}))));
        assert!(filter.matches(&object(json!({"displayName": "o'brien's devices"}))));
        assert!(!filter.matches(&object(json!({"displayName": "O'Brien"}))));
        assert!(!filter.matches(&object(json!({}))));
    }

    #[test]
    fn conjunctions_paths_and_other_literals() {
        let filter = Filter::parse("severity eq 'high' and status eq 'active'").expect("parse");
        assert!(filter.matches(&object(json!({"severity": "high", "status": "active"}))));
        assert!(!filter.matches(&object(json!({"severity": "high", "status": "resolved"}))));
        let filter = Filter::parse("templateReference/templateFamily eq 'endpointSecurityFirewall'").expect("parse");
        assert!(filter.matches(&object(json!({"templateReference": {"templateFamily": "endpointSecurityFirewall"}}))));
        let filter = Filter::parse("isAssigned eq true and settingCount eq 3").expect("parse");
        assert!(filter.matches(&object(json!({"isAssigned": true, "settingCount": 3}))));
    }

    #[test]
    fn unsupported_filters_are_errors() {
        for text in [
            "",
            "displayName",
            "displayName ne 'x'",
            "displayName eq 'x",
            "a eq 'x' or b eq 'y'",
            "startswith(displayName,'x')",
        ] {
            assert!(Filter::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn options_with_or_without_dollar_in_any_case() {
        let options = parse_query(Some(
            "%24top=5&EXPAND=settings,%20assignments&$skiptoken=abc&$filter=displayName%20eq%20%27A%27",
        ))
        .expect("parse");
        assert_eq!(options.top, Some(5));
        assert_eq!(options.expand, ["settings", "assignments"]);
        assert_eq!(options.skip_token.as_deref(), Some("abc"));
        assert!(options.filter.is_some());
        assert_eq!(options.pairs.len(), 4);
        assert!(parse_query(Some("$top=0")).is_err());
        assert!(parse_query(Some("$top=x")).is_err());
        assert_eq!(parse_query(None).expect("empty"), QueryOptions::default());
    }
}
