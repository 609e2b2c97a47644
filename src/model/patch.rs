//! Edits of a spec in the form users write it, at dotted paths (`exclusions.paths`,
//! `rules.blockCredentialStealingFromLsass`): what a `PolicyOverride` does to its target, and what an
//! exception that lets named settings differ does with the values a tenant has. Working on the spec,
//! not on Graph's payload, makes one patch fit every kind: the patched spec is checked and rendered
//! exactly as a manifest is.

use serde_json::{Map, Value};

use super::template::check::type_name;

/// One edit at one path.
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    /// The value at the path becomes this one (a list is replaced whole).
    Set(Value),
    /// These items are added to the list at the path, each unless the list has it already.
    Append(Vec<Value>),
    /// The path is removed (and objects it leaves empty).
    Remove,
}

/// Applies one edit to a spec. An error says which part of the path is not an object (or, for an
/// append, which value is not a list).
pub fn apply(spec: &mut Value, path: &str, edit: &Edit) -> Result<(), String> {
    let keys: Vec<&str> = path.split('.').collect();
    if keys.iter().any(|k| k.is_empty()) {
        return Err(format!("`{path}` is not a path (keys separated by `.`)"));
    }
    if *edit == Edit::Remove {
        remove(spec, &keys);
        return Ok(());
    }
    let (last, parents) = keys.split_last().ok_or_else(|| format!("`{path}` is empty"))?;
    let mut node = spec;
    for (depth, key) in parents.iter().enumerate() {
        let object = as_object(node, &keys[..depth], path)?;
        node = object.entry(key.to_string()).or_insert_with(|| Value::Object(Map::new()));
    }
    let object = as_object(node, parents, path)?;
    match edit {
        Edit::Set(value) => {
            object.insert(last.to_string(), value.clone());
        }
        Edit::Append(items) => {
            let list = object.entry(last.to_string()).or_insert_with(|| Value::Array(Vec::new()));
            let Value::Array(list) = list else {
                return Err(format!("`{path}` is {}, not a list: only lists take `append`", type_name(list)));
            };
            for item in items {
                if !list.contains(item) {
                    list.push(item.clone());
                }
            }
        }
        Edit::Remove => {}
    }
    Ok(())
}

/// The value at a dotted path, when there is one.
pub fn value_at<'a>(spec: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(spec, |node, key| node.as_object()?.get(key))
}

/// Whether one path is the other or lies under it: edits at such paths touch the same value.
pub fn overlaps(a: &str, b: &str) -> bool {
    let under =
        |inner: &str, outer: &str| inner == outer || inner.strip_prefix(outer).is_some_and(|r| r.starts_with('.'));
    under(a, b) || under(b, a)
}

fn as_object<'a>(node: &'a mut Value, at: &[&str], path: &str) -> Result<&'a mut Map<String, Value>, String> {
    let what = type_name(node);
    node.as_object_mut().ok_or_else(|| {
        let prefix = if at.is_empty() { "the spec".to_string() } else { format!("`{}`", at.join(".")) };
        format!("{prefix} is {what}, so `{path}` cannot be set in it")
    })
}

/// Removes the value at `keys`, and every object on the way that it leaves empty.
fn remove(node: &mut Value, keys: &[&str]) {
    let Some(object) = node.as_object_mut() else { return };
    match keys {
        [] => {}
        [last] => {
            object.remove(*last);
        }
        [first, rest @ ..] => {
            if let Some(child) = object.get_mut(*first) {
                remove(child, rest);
                if child.as_object().is_some_and(Map::is_empty) {
                    object.remove(*first);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn set_creates_the_objects_on_its_way_and_replaces_lists_whole() {
        let mut spec = json!({"exclusions": {"paths": ["a"]}});
        apply(&mut spec, "exclusions.paths", &Edit::Set(json!(["b"]))).expect("set");
        apply(&mut spec, "realtime.enabled", &Edit::Set(json!(true))).expect("set");
        assert_eq!(spec, json!({"exclusions": {"paths": ["b"]}, "realtime": {"enabled": true}}));
    }

    #[test]
    fn append_adds_what_the_list_lacks_and_refuses_what_is_no_list() {
        let mut spec = json!({"exclusions": {"paths": ["a"]}, "name": "x"});
        apply(&mut spec, "exclusions.paths", &Edit::Append(vec![json!("a"), json!("b")])).expect("append");
        apply(&mut spec, "exclusions.processes", &Edit::Append(vec![json!("p")])).expect("append to nothing");
        assert_eq!(spec["exclusions"], json!({"paths": ["a", "b"], "processes": ["p"]}));
        let error = apply(&mut spec, "name", &Edit::Append(vec![json!(1)])).expect_err("a string");
        assert_eq!(error, "`name` is a string, not a list: only lists take `append`");
        let error = apply(&mut spec, "name.first", &Edit::Set(json!(1))).expect_err("under a string");
        assert_eq!(error, "`name` is a string, so `name.first` cannot be set in it");
    }

    #[test]
    fn remove_takes_empty_parents_with_it() {
        let mut spec = json!({"rules": {"a": "block"}, "other": 1});
        apply(&mut spec, "rules.a", &Edit::Remove).expect("remove");
        apply(&mut spec, "missing.path", &Edit::Remove).expect("nothing to remove");
        assert_eq!(spec, json!({"other": 1}));
    }

    #[test]
    fn paths_overlap_when_one_lies_under_the_other() {
        assert!(overlaps("rules", "rules.a"));
        assert!(overlaps("rules.a", "rules.a"));
        assert!(!overlaps("rules.a", "rules.ab"));
        assert_eq!(value_at(&json!({"a": {"b": 2}}), "a.b"), Some(&json!(2)));
    }
}
