//! How `$filter` and `$orderby` read and compare JSON values: property paths without regard to letter
//! case, strings likewise, numbers as numbers, and date-time texts as instants.

use std::cmp::Ordering;

use serde_json::{Map, Value};

/// The value at a `/`-separated property path. A segment naming a type (`microsoft.graph.managedApp`)
/// is a cast: the rest of the path is read when the object is of that type, and is null otherwise.
pub fn lookup<'a>(object: &'a Map<String, Value>, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    if first.to_ascii_lowercase().starts_with("microsoft.graph.") {
        let own_type = object.get("@odata.type").and_then(Value::as_str).unwrap_or_default();
        let is_of_type = own_type.trim_start_matches('#').eq_ignore_ascii_case(first);
        return if is_of_type { lookup(object, rest) } else { None };
    }
    let mut node = property(object, first)?;
    for segment in rest {
        node = property(node.as_object()?, segment)?;
    }
    Some(node)
}

fn property<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).or_else(|| object.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

/// The order of two values of one type, `None` when they do not compare (different types, `null`
/// against a value).
pub fn compare(left: &Value, right: &Value) -> Option<Ordering> {
    match (left, right) {
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        (Value::Number(a), Value::Number(b)) => a.as_f64()?.partial_cmp(&b.as_f64()?),
        (Value::String(a), Value::String(b)) => match (instant(a), instant(b)) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => Some(a.to_lowercase().cmp(&b.to_lowercase())),
        },
        _ => None,
    }
}

/// A date-time (`2026-03-01T10:00:00.1234567Z`) or a date (`2026-03-01`, midnight UTC).
fn instant(text: &str) -> Option<jiff::Timestamp> {
    if !text.starts_with(|c: char| c.is_ascii_digit()) || text.len() < 10 {
        return None;
    }
    text.parse::<jiff::Timestamp>().ok().or_else(|| {
        text.parse::<jiff::civil::Date>()
            .ok()
            .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
            .map(|z| z.timestamp())
    })
}

/// The `$orderby` order of two values: `null` first, then as [`compare`]; values of different types
/// by type.
pub fn order(left: &Value, right: &Value) -> Ordering {
    compare(left, right).unwrap_or_else(|| rank(left).cmp(&rank(right)))
}

fn rank(value: &Value) -> u8 {
    match value {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_order_as_graph_sorts_them() {
        assert_eq!(order(&json!(null), &json!("a")), Ordering::Less);
        assert_eq!(order(&json!("B"), &json!("a")), Ordering::Greater);
        assert_eq!(order(&json!(10), &json!(9.5)), Ordering::Greater);
        assert_eq!(order(&json!("2026-01-02T00:00:00Z"), &json!("2026-01-01T23:00:00.5Z")), Ordering::Greater);
        assert_eq!(compare(&json!("x"), &json!(1)), None);
        let object = json!({"Template": {"family": "x"}});
        let path = ["template".to_string(), "Family".to_string()];
        assert_eq!(lookup(object.as_object().expect("object"), &path), Some(&json!("x")));
    }
}
