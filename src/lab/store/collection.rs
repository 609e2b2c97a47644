//! One collection of a tenant (policies, groups, incidents): objects kept as raw JSON, keyed and
//! ordered by id, each remembering the file(s) it came from so that writes can move it to `<id>.json`
//! and take it out of the file it was loaded from.
//!
//! A collection can defer one property (a policy's `settings`, nine tenths of it): that property is
//! kept as compact JSON text, never parsed on load, served as it is, and parsed only for a write, a
//! list that expands it, or the policy's settings sub-collection.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::{Path, PathBuf};

use serde::de::{DeserializeSeed, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::lab::LabError;
use crate::lab::files::{json_files_in, read_json, remove_durably, write_atomically, write_json_atomically};
use crate::lab::ids::derived_guid;

/// Objects of one kind in one tenant, persisted under one directory.
#[derive(Debug, Default)]
pub struct Collection {
    dir: PathBuf,
    /// Stable across machines; part of the id given to objects stored without one.
    scope: String,
    /// The property kept as text, if any.
    deferred: Option<&'static str>,
    entries: BTreeMap<String, Entry>,
}

/// An object without its deferred property, and that property as compact text.
type Split = (Map<String, Value>, Option<Box<RawValue>>);

#[derive(Debug)]
struct Entry {
    /// The object without its deferred property.
    object: Map<String, Value>,
    /// The deferred property, compact JSON text.
    deferred: Option<Box<RawValue>>,
    /// Every file that holds a copy, the authoritative one first. More than one only when a write was
    /// interrupted between writing `<id>.json` and rewriting the file the object came from.
    origins: Vec<Origin>,
}

#[derive(Clone, Debug, PartialEq)]
struct Origin {
    path: PathBuf,
    /// The file is a Graph collection (`{"value": […]}`) rather than the object alone.
    in_collection: bool,
}

impl Collection {
    /// Loads every `*.json` file of `dir` (a missing directory is an empty collection). A file holds one
    /// object, or a Graph collection of them.
    pub fn load(dir: &Path, scope: &str) -> Result<Collection, LabError> {
        Collection::load_deferring(dir, scope, None)
    }

    /// Loads a collection whose objects keep `deferred` as text (see the module's documentation).
    pub fn load_deferring(dir: &Path, scope: &str, deferred: Option<&'static str>) -> Result<Collection, LabError> {
        let mut collection =
            Collection { dir: dir.to_path_buf(), scope: scope.to_string(), deferred, entries: BTreeMap::new() };
        for path in json_files_in(dir)? {
            let (head, text) = read_split(&path, deferred)?;
            if text.is_none() && is_collection(&head) {
                for (index, item) in collection_items(head).into_iter().enumerate() {
                    let Value::Object(object) = item else {
                        return Err(LabError::invalid(&path, format!("item {index} of `value` is not an object")));
                    };
                    let (object, text) = collection.split(object).map_err(|e| invalid_json(&path, e))?;
                    collection.add_loaded(&path, index, object, text, true);
                }
            } else {
                collection.add_loaded(&path, 0, head, text, false);
            }
        }
        Ok(collection)
    }

    fn add_loaded(
        &mut self,
        path: &Path,
        index: usize,
        mut object: Map<String, Value>,
        deferred: Option<Box<RawValue>>,
        in_collection: bool,
    ) {
        let id = match object.get("id").and_then(Value::as_str) {
            Some(id) => id.to_string(),
            None => {
                let id = self.derived_id(path, index);
                object.insert("id".into(), Value::String(id.clone()));
                id
            }
        };
        let origin = Origin { path: path.to_path_buf(), in_collection };
        let own_file = path == self.file_for(&id);
        match self.entries.get_mut(&id) {
            // Writes always go to `<id>.json` first, so that copy is the newest.
            Some(entry) if own_file => {
                entry.object = object;
                entry.deferred = deferred;
                entry.origins.insert(0, origin);
            }
            Some(entry) => entry.origins.push(origin),
            None => {
                self.entries.insert(id, Entry { object, deferred, origins: vec![origin] });
            }
        }
    }

    /// The object without its deferred property, and that property as compact text.
    fn split(&self, mut object: Map<String, Value>) -> Result<Split, serde_json::Error> {
        let Some(value) = self.deferred.and_then(|name| object.shift_remove(name)) else { return Ok((object, None)) };
        Ok((object, Some(serde_json::value::to_raw_value(&value)?)))
    }

    /// Id of an object stored without one: stable as long as the file is not rewritten, and every
    /// rewrite stores the ids of the objects it keeps.
    fn derived_id(&self, path: &Path, index: usize) -> String {
        let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        derived_guid(&format!("{}/{file}#{index}", self.scope))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The object, without its deferred property.
    pub fn get(&self, id: &str) -> Option<&Map<String, Value>> {
        self.entries.get(id).map(|e| &e.object)
    }

    /// The deferred property of an object, as compact JSON text.
    pub fn deferred(&self, id: &str) -> Option<&RawValue> {
        self.entries.get(id).and_then(|e| e.deferred.as_deref())
    }

    /// The whole object, its deferred property parsed back in (what a write starts from).
    pub fn full(&self, id: &str) -> Option<Map<String, Value>> {
        let entry = self.entries.get(id)?;
        let mut object = entry.object.clone();
        if let (Some(name), Some(text)) = (self.deferred, &entry.deferred) {
            object.insert(name.into(), serde_json::from_str(text.get()).unwrap_or(Value::Null));
        }
        Some(object)
    }

    /// Objects in id order, without their deferred property.
    pub fn iter(&self) -> impl Iterator<Item = &Map<String, Value>> {
        self.entries.values().map(|e| &e.object)
    }

    /// Objects in id order whose id sorts after `after` (all of them when `None`).
    pub fn after<'a>(&'a self, after: Option<&'a str>) -> impl Iterator<Item = (&'a str, &'a Map<String, Value>)> {
        let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
        self.entries.range::<str, _>((lower, Bound::Unbounded)).map(|(id, e)| (id.as_str(), &e.object))
    }

    /// Stores the whole `object` under `id`, on disk first: `<id>.json` is written, then every other
    /// file that held the object is rewritten without it.
    pub fn put(&mut self, id: &str, object: Map<String, Value>) -> Result<(), LabError> {
        let own = Origin { path: self.file_for(id), in_collection: false };
        let mut text = serde_json::to_vec_pretty(&object).map_err(|e| invalid_json(&own.path, e))?;
        text.push(b'\n');
        write_atomically(&own.path, &text)?;
        let previous = self.entries.get(id).map(|e| e.origins.clone()).unwrap_or_default();
        for origin in previous.iter().filter(|o| **o != own) {
            self.remove_from_file(origin, id)?;
        }
        let (object, deferred) = self.split(object).map_err(|e| invalid_json(&own.path, e))?;
        self.entries.insert(id.to_string(), Entry { object, deferred, origins: vec![own] });
        Ok(())
    }

    /// Removes the object from every file that holds it, then from memory. Returns whether it existed.
    pub fn remove(&mut self, id: &str) -> Result<bool, LabError> {
        let Some(entry) = self.entries.get(id) else { return Ok(false) };
        for origin in entry.origins.clone() {
            self.remove_from_file(&origin, id)?;
        }
        self.entries.remove(id);
        Ok(true)
    }

    fn remove_from_file(&self, origin: &Origin, id: &str) -> Result<(), LabError> {
        if !origin.in_collection {
            return remove_durably(&origin.path);
        }
        let Value::Object(mut file) = read_json(&origin.path)? else {
            return Err(LabError::invalid(&origin.path, "no longer a collection"));
        };
        let items = match file.get_mut("value") {
            Some(Value::Array(items)) => std::mem::take(items),
            _ => return Err(LabError::invalid(&origin.path, "no longer a collection")),
        };
        let mut kept = Vec::with_capacity(items.len());
        for (index, mut item) in items.into_iter().enumerate() {
            let Some(object) = item.as_object_mut() else { continue };
            let item_id = match object.get("id").and_then(Value::as_str) {
                Some(item_id) => item_id.to_string(),
                None => {
                    let derived = self.derived_id(&origin.path, index);
                    object.insert("id".into(), Value::String(derived.clone()));
                    derived
                }
            };
            if item_id != id {
                kept.push(item);
            }
        }
        if kept.is_empty() {
            return remove_durably(&origin.path);
        }
        file.insert("value".into(), Value::Array(kept));
        write_json_atomically(&origin.path, &Value::Object(file))
    }

    /// `<dir>/<id>.json`; characters that do not belong in a file name are replaced, and a hash of the
    /// id keeps such names unique.
    fn file_for(&self, id: &str) -> PathBuf {
        let safe = !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
        if safe {
            return self.dir.join(format!("{id}.json"));
        }
        let cleaned: String = id
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
            .take(64)
            .collect();
        self.dir.join(format!("{cleaned}-{}.json", &derived_guid(id)[..8]))
    }
}

fn invalid_json(path: &Path, source: serde_json::Error) -> LabError {
    LabError::InvalidJson { path: path.into(), source }
}

/// Reads one file: an object, with `deferred` (when named and present) kept as compact text.
fn read_split(path: &Path, deferred: Option<&str>) -> Result<Split, LabError> {
    let bytes = std::fs::read(path).map_err(|e| LabError::io(path, e))?;
    let mut reader = serde_json::Deserializer::from_slice(&bytes);
    let split = SplitObject { deferred }.deserialize(&mut reader).and_then(|split| reader.end().map(|()| split));
    match split {
        Ok(split) => Ok(split),
        Err(error) if error.is_data() => {
            Err(LabError::invalid(path, "expected a JSON object or a collection {\"value\": […]}"))
        }
        Err(error) => Err(invalid_json(path, error)),
    }
}

/// Reads an object's properties as values, except the deferred one, read as text and made compact.
struct SplitObject<'a> {
    deferred: Option<&'a str>,
}

impl<'de> DeserializeSeed<'de> for SplitObject<'_> {
    type Value = Split;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SplitObject<'_> {
    type Value = Split;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = Map::new();
        let mut text = None;
        while let Some(key) = map.next_key::<String>()? {
            if self.deferred == Some(key.as_str()) {
                let raw: &RawValue = map.next_value()?;
                text = Some(compact(raw).map_err(serde::de::Error::custom)?);
            } else {
                let value: Value = map.next_value()?;
                object.insert(key, value);
            }
        }
        Ok((object, text))
    }
}

/// JSON text without the whitespace between tokens (the state files are pretty-printed). `raw` is
/// valid JSON, so every string is closed.
fn compact(raw: &RawValue) -> Result<Box<RawValue>, serde_json::Error> {
    let mut rest = raw.get().as_bytes();
    let mut out = Vec::with_capacity(rest.len());
    while let Some(&byte) = rest.first() {
        let taken = if byte == b'"' {
            let end = string_end(rest);
            out.extend_from_slice(&rest[..end]);
            end
        } else {
            if !byte.is_ascii_whitespace() {
                out.push(byte);
            }
            1
        };
        rest = &rest[taken..];
    }
    // Bytes are copied whole or dropped as ASCII whitespace, so the text stays UTF-8.
    RawValue::from_string(String::from_utf8(out).map_err(serde::de::Error::custom)?)
}

/// Length of the JSON string `text` opens with, both quotes included (all of `text` if unclosed).
fn string_end(text: &[u8]) -> usize {
    let mut at = 1;
    while let Some(found) = text.get(at..).and_then(|tail| memchr::memchr2(b'"', b'\\', tail)) {
        if text[at + found] == b'"' {
            return at + found + 1;
        }
        at += found + 2;
    }
    text.len()
}

/// Whether a stored object is a Graph collection rather than one object.
fn is_collection(map: &Map<String, Value>) -> bool {
    matches!(map.get("value"), Some(Value::Array(_))) && !map.contains_key("id")
}

fn collection_items(mut map: Map<String, Value>) -> Vec<Value> {
    match map.remove("value") {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::files::json_files_in;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().expect("object").clone()
    }

    fn names(dir: &Path) -> Vec<String> {
        let files = json_files_in(dir).expect("list");
        files.iter().map(|p| p.file_name().expect("name").to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn objects_move_out_of_collection_files_when_written_and_ids_survive_reloads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let list = json!({"@odata.context": "x", "value": [{"id": "b", "n": 1}, {"n": 2}, {"n": 3}]});
        write_json_atomically(&dir.path().join("list.json"), &list).expect("seed");
        let mut collection = Collection::load(dir.path(), "t/c").expect("load");
        assert_eq!(collection.len(), 3);
        let unnamed: Vec<String> = collection.iter().filter(|o| o["n"] != 1).map(|o| o["id"].to_string()).collect();

        collection.put("b", object(json!({"id": "b", "n": 10}))).expect("put");
        assert_eq!(names(dir.path()), ["b.json", "list.json"]);
        let reloaded = Collection::load(dir.path(), "t/c").expect("reload");
        assert_eq!(reloaded.get("b").expect("b")["n"], 10);
        let reloaded_unnamed: Vec<String> =
            reloaded.iter().filter(|o| o["n"] != 10).map(|o| o["id"].to_string()).collect();
        assert_eq!(reloaded_unnamed, unnamed, "ids of objects stored without one are kept");

        let mut collection = reloaded;
        let ids: Vec<String> = collection.iter().map(|o| o["id"].as_str().expect("id").to_string()).collect();
        for id in &ids {
            assert!(collection.remove(id).expect("remove"));
        }
        assert!(!collection.remove("b").expect("remove twice"));
        assert!(names(dir.path()).is_empty(), "emptied files are removed");
    }

    #[test]
    fn a_copy_left_by_an_interrupted_write_loses_to_the_own_file_and_is_cleaned_up() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_json_atomically(&dir.path().join("list.json"), &json!({"value": [{"id": "a", "v": "old"}]}))
            .expect("seed");
        write_json_atomically(&dir.path().join("a.json"), &json!({"id": "a", "v": "new"})).expect("seed");
        let mut collection = Collection::load(dir.path(), "t/c").expect("load");
        assert_eq!(collection.get("a").expect("a")["v"], "new");
        collection.remove("a").expect("remove");
        assert_eq!(Collection::load(dir.path(), "t/c").expect("reload").len(), 0);
    }

    #[test]
    fn odd_ids_get_safe_file_names_and_order_is_by_id() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut collection = Collection::load(dir.path(), "t/c").expect("load");
        collection.put("../x y", object(json!({"id": "../x y"}))).expect("put");
        collection.put("2", object(json!({"id": "2"}))).expect("put");
        collection.put("1", object(json!({"id": "1"}))).expect("put");
        assert!(names(dir.path()).iter().all(|n| !n.contains('/') && !n.contains(' ')));
        let after: Vec<&str> = collection.after(Some("1")).map(|(id, _)| id).collect();
        assert_eq!(after, ["2"]);
        assert_eq!(Collection::load(dir.path(), "t/c").expect("reload").len(), 3);
    }

    #[test]
    fn files_that_are_not_objects_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("bad.json"), "[1, 2]").expect("write");
        assert!(matches!(Collection::load(dir.path(), "t/c"), Err(LabError::InvalidState { .. })));
        std::fs::write(dir.path().join("bad.json"), "{\"value\": [1]}").expect("write");
        assert!(matches!(Collection::load(dir.path(), "t/c"), Err(LabError::InvalidState { .. })));
    }

    #[test]
    fn a_deferred_property_is_kept_as_compact_text_and_parsed_back_for_writes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let policy = json!({"id": "p", "name": "n", "settings": [{"id": "0", "v": "a \\\" b\n c"}, {"id": "1"}]});
        std::fs::write(dir.path().join("p.json"), serde_json::to_string_pretty(&policy).expect("text")).expect("seed");
        let list = json!({"value": [{"id": "q", "settings": [ {"id": "0"} ]}]});
        write_json_atomically(&dir.path().join("list.json"), &list).expect("seed");
        let mut collection = Collection::load_deferring(dir.path(), "t/c", Some("settings")).expect("load");

        let head = collection.get("p").expect("p");
        assert!(!head.contains_key("settings") && head["name"] == "n");
        let text = collection.deferred("p").expect("settings text").get();
        let compact = serde_json::to_string(&policy["settings"]).expect("compact");
        assert_eq!(text, compact, "compact, strings untouched");
        assert_eq!(collection.deferred("q").expect("from a collection file").get(), r#"[{"id":"0"}]"#);
        assert_eq!(Value::Object(collection.full("p").expect("full"))["settings"], policy["settings"]);

        let mut changed = collection.full("p").expect("full");
        changed.insert("settings".into(), json!([{"id": "0", "v": "new"}]));
        collection.put("p", changed).expect("put");
        assert_eq!(collection.deferred("p").expect("text").get(), r#"[{"id":"0","v":"new"}]"#);
        let reloaded = Collection::load_deferring(dir.path(), "t/c", Some("settings")).expect("reload");
        assert_eq!(reloaded.full("p").expect("p")["settings"], json!([{"id": "0", "v": "new"}]), "written whole");
        assert!(Collection::load(dir.path(), "t/c").expect("plain").get("p").expect("p").contains_key("settings"));
    }
}
