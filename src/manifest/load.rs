//! Loading manifests: files, directories and stdin → typed resources, every error located.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kube::Resource;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::diagnostics::{Diagnostic, Location};
use super::metadata::ManifestMetadata;
use super::yaml::{PositionIndex, YamlDocument, parent_path, parse_documents};
use super::{Manifest, ManifestSet, PolicyResource, Source};
use crate::model::{self, API_VERSION, Kind, TypedPolicy};
use crate::util::suggest::{did_you_mean, serde_message};
use crate::util::yaml11::ambiguous_scalars;

/// At most this many structural errors are reported per document; past it they are mostly echoes.
const MAX_ERRORS_PER_DOCUMENT: usize = 20;

/// Largest input (one file, or standard input) read, in bytes: a few documents of the largest size
/// [`super::yaml::MAX_DOCUMENT_CHARS`] allows. Reading stops there, so a huge file or an endless
/// stream (`-f /dev/zero`) is refused without being read whole.
pub const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

/// Reads all of `reader` as UTF-8, refusing input longer than [`MAX_INPUT_BYTES`].
pub fn read_bounded(reader: impl Read) -> std::io::Result<String> {
    let mut bytes = Vec::new();
    reader.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        let message = format!("longer than {} MiB, the most read from one input", MAX_INPUT_BYTES / (1024 * 1024));
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, message));
    }
    String::from_utf8(bytes).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// Where manifests come from: a path (file or directory) or `-` for standard input.
#[derive(Clone, Debug)]
pub enum Input {
    Path(PathBuf),
    Stdin,
}

impl Input {
    pub fn parse(arg: &str) -> Input {
        if arg == "-" { Input::Stdin } else { Input::Path(PathBuf::from(arg)) }
    }
}

/// The result of loading: whatever parsed, plus every diagnostic.
#[derive(Debug, Default)]
pub struct Loaded {
    pub set: ManifestSet,
    pub diagnostics: Vec<Diagnostic>,
    pub files: usize,
    pub documents: usize,
}

/// Loads every input. `stdin` supplies the text for `-`.
pub fn load_inputs(inputs: &[Input], stdin: &mut dyn FnMut() -> std::io::Result<String>) -> Loaded {
    let mut loaded = Loaded::default();
    for input in inputs {
        match input {
            Input::Stdin => match stdin() {
                Ok(text) => load_text(&mut loaded, Arc::from("<stdin>"), &text),
                Err(e) => loaded.diagnostics.push(Diagnostic::error(format!("cannot read standard input: {e}"))),
            },
            Input::Path(path) => load_path(&mut loaded, path),
        }
    }
    if loaded.documents == 0 && loaded.diagnostics.is_empty() {
        loaded.diagnostics.push(Diagnostic::error("no manifests found in the given paths"));
    }
    loaded
}

fn load_path(loaded: &mut Loaded, path: &Path) {
    let display = || path.display().to_string();
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) => {
            loaded.diagnostics.push(Diagnostic::error(format!("{}: cannot read: {e}", display())));
            return;
        }
    };
    if metadata.is_dir() {
        match yaml_files_under(path) {
            Ok(files) => files.iter().for_each(|file| load_file(loaded, file)),
            Err(e) => loaded.diagnostics.push(Diagnostic::error(format!("{}: cannot list: {e}", display()))),
        }
    } else {
        load_file(loaded, path);
    }
}

/// `*.yaml` and `*.yml` files below `dir`, recursively, in a stable order.
fn yaml_files_under(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "yaml" || ext == "yml") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn load_file(loaded: &mut Loaded, path: &Path) {
    let name: Arc<str> = Arc::from(path.display().to_string());
    match std::fs::File::open(path).and_then(read_bounded) {
        Ok(text) => load_text(loaded, name, &text),
        Err(e) => loaded.diagnostics.push(Diagnostic::error(format!("{name}: cannot read: {e}"))),
    }
}

/// Loads every document of one YAML stream.
pub fn load_text(loaded: &mut Loaded, file: Arc<str>, text: &str) {
    loaded.files += 1;
    let (documents, syntax) = parse_documents(&file, text);
    if syntax.is_empty() {
        // kubectl reads YAML 1.1: what it would read otherwise must be quoted, or the cluster gets
        // another manifest than this one.
        for plain in ambiguous_scalars(text).unwrap_or_default() {
            let location = Location { file: file.clone(), line: plain.line, column: plain.column };
            loaded.diagnostics.push(
                Diagnostic::warning(format!(
                    "`{}` is read differently by YAML 1.1 tools such as kubectl (a boolean or a number, not \
                     text): quote it, \"{}\"",
                    plain.value, plain.value
                ))
                .at(Some(location)),
            );
        }
    }
    loaded.diagnostics.extend(syntax);
    for document in documents {
        if document.value.is_null() {
            continue;
        }
        loaded.documents += 1;
        if let Err(diagnostics) = load_document(&mut loaded.set, document) {
            loaded.diagnostics.extend(diagnostics);
        }
    }
}

fn load_document(set: &mut ManifestSet, document: YamlDocument) -> Result<(), Vec<Diagnostic>> {
    let YamlDocument { value, positions, start } = document;
    let Some(object) = value.as_object() else {
        return Err(vec![
            Diagnostic::error("a manifest must be a mapping with apiVersion, kind, metadata and spec").at(Some(start)),
        ]);
    };
    let api_version = object.get("apiVersion").and_then(Value::as_str);
    if api_version != Some(API_VERSION) {
        let message = match api_version {
            None => format!("missing field `apiVersion` (expected `{API_VERSION}`)"),
            Some(other) => format!("unsupported apiVersion `{other}` (expected `{API_VERSION}`)"),
        };
        return Err(vec![Diagnostic::error(message).path("apiVersion").at(positions.value("apiVersion"))]);
    }
    let kind_name = object.get("kind").and_then(Value::as_str);
    let Some(kind) = kind_name.and_then(Kind::parse) else {
        let expected = Kind::ALL.map(|k| format!("`{k}`")).join(", ");
        let message = match kind_name {
            None => format!("missing field `kind` (expected one of {expected})"),
            Some(other) => format!(
                "unknown kind `{other}`{}, expected one of {expected}",
                did_you_mean(other, Kind::ALL.iter().map(|k| k.as_str()))
            ),
        };
        return Err(vec![Diagnostic::error(message).path("kind").at(positions.value("kind"))]);
    };
    let metadata_field = |field: &str| object.get("metadata").and_then(|m| m.get(field)).and_then(Value::as_str);
    let name = metadata_field("name").unwrap_or_default().to_string();
    let namespace = metadata_field("namespace").map(str::to_string);
    let resource = if name.is_empty() { kind.to_string() } else { format!("{kind}/{name}") };
    let source = Source { positions, start };
    let (loaded, diagnostics) = add_typed(set, kind, value, source);
    if !loaded {
        // Remembered so that references to it are not reported as dangling on top of its own errors.
        let namespace = namespace.unwrap_or_else(|| super::DEFAULT_NAMESPACE.to_string());
        set.broken.push((kind, namespace, name));
    }
    if diagnostics.is_empty() {
        return Ok(());
    }
    Err(diagnostics.into_iter().map(|d| d.resource(resource.clone())).collect())
}

/// Adds the document to the set when it (or what is left of it once its errors are removed) loads,
/// so that semantic checks still run on the rest of it. Returns whether it was added.
fn add_typed(set: &mut ManifestSet, kind: Kind, value: Value, source: Source) -> (bool, Vec<Diagnostic>) {
    fn add<K>(
        list: &mut Vec<Manifest<K>>,
        (manifest, diagnostics): (Option<Manifest<K>>, Vec<Diagnostic>),
    ) -> (bool, Vec<Diagnostic>) {
        let loaded = manifest.is_some();
        list.extend(manifest);
        (loaded, diagnostics)
    }
    fn add_policy<K>(
        list: &mut Vec<Manifest<PolicyResource>>,
        (manifest, diagnostics): (Option<Manifest<K>>, Vec<Diagnostic>),
        wrap: fn(K) -> PolicyResource,
    ) -> (bool, Vec<Diagnostic>) {
        let manifest = manifest.map(|m| Manifest { object: wrap(m.object), source: m.source });
        add(list, (manifest, diagnostics))
    }
    match kind {
        Kind::Tenant => add(&mut set.tenants, typed(&value, source)),
        Kind::DistributionProfile => add(&mut set.profiles, typed(&value, source)),
        Kind::AntivirusPolicy => add_typed_policy::<model::AntivirusPolicy>(set, value, source),
        Kind::FirewallPolicy => add_typed_policy::<model::FirewallPolicy>(set, value, source),
        Kind::AttackSurfaceReductionPolicy => {
            add_typed_policy::<model::AttackSurfaceReductionPolicy>(set, value, source)
        }
        Kind::FirewallRulesPolicy => add_typed_policy::<model::FirewallRulesPolicy>(set, value, source),
        Kind::SecurityExperiencePolicy => add_typed_policy::<model::SecurityExperiencePolicy>(set, value, source),
        Kind::DefenderUpdateControlsPolicy => {
            add_typed_policy::<model::DefenderUpdateControlsPolicy>(set, value, source)
        }
        Kind::AntivirusExclusionsPolicy => add_typed_policy::<model::AntivirusExclusionsPolicy>(set, value, source),
        Kind::EndpointDetectionPolicy => add_typed_policy::<model::EndpointDetectionPolicy>(set, value, source),
        Kind::SettingsCatalogPolicy => {
            add_policy(&mut set.policies, typed(&value, source), PolicyResource::SettingsCatalog)
        }
        Kind::NotificationPolicy => add(&mut set.notifications, typed(&value, source)),
        Kind::IntuneRole => add(&mut set.roles, typed(&value, source)),
        Kind::DetectionRule => add(&mut set.detection_rules, typed(&value, source)),
        Kind::DefenderRole => add(&mut set.defender_roles, typed(&value, source)),
        Kind::PolicyException => add(&mut set.exceptions, typed(&value, source)),
        Kind::PolicyOverride => add(&mut set.overrides, typed(&value, source)),
        Kind::Case => add(&mut set.cases, typed(&value, source)),
    }
}

/// Adds a document of a typed policy kind.
fn add_typed_policy<K>(set: &mut ManifestSet, value: Value, source: Source) -> (bool, Vec<Diagnostic>)
where
    K: Resource + HasSpec,
    K::Spec: DeserializeOwned,
    TypedPolicy: From<K>,
{
    let (manifest, diagnostics) = typed::<K>(&value, source);
    let loaded = manifest.is_some();
    set.policies.extend(
        manifest.map(|m| Manifest { object: PolicyResource::Typed(TypedPolicy::from(m.object)), source: m.source }),
    );
    (loaded, diagnostics)
}

/// The envelope of a document of kind `K` as written in a file.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FileDocument<S> {
    #[allow(dead_code)]
    api_version: String,
    #[allow(dead_code)]
    kind: String,
    metadata: ManifestMetadata,
    spec: S,
}

/// Deserializes a document into the kube resource `K`, reporting every structural error found.
fn typed<K>(value: &Value, source: Source) -> (Option<Manifest<K>>, Vec<Diagnostic>)
where
    K: Resource + HasSpec,
    K::Spec: DeserializeOwned,
{
    let (document, diagnostics) = deserialize_collecting::<FileDocument<K::Spec>>(value, &source.positions);
    let Some(document) = document else { return (None, diagnostics) };
    let mut object = K::from_spec(&document.metadata.name, document.spec);
    let meta = object.meta_mut();
    meta.namespace = document.metadata.namespace;
    meta.labels = (!document.metadata.labels.is_empty()).then_some(document.metadata.labels);
    meta.annotations = (!document.metadata.annotations.is_empty()).then_some(document.metadata.annotations);
    (Some(Manifest { object, source: Some(source) }), diagnostics)
}

/// A kube resource built from a name and a spec.
pub trait HasSpec {
    type Spec;
    fn from_spec(name: &str, spec: Self::Spec) -> Self;
}

macro_rules! has_spec {
    ($($kind:ty => $spec:ty),* $(,)?) => {$(
        impl HasSpec for $kind {
            type Spec = $spec;
            fn from_spec(name: &str, spec: $spec) -> Self {
                <$kind>::new(name, spec)
            }
        }
    )*};
}

has_spec! {
    model::Tenant => model::TenantSpec,
    model::DistributionProfile => model::DistributionProfileSpec,
    model::AntivirusPolicy => model::AntivirusPolicySpec,
    model::FirewallPolicy => model::FirewallPolicySpec,
    model::AttackSurfaceReductionPolicy => model::AttackSurfaceReductionPolicySpec,
    model::FirewallRulesPolicy => model::FirewallRulesPolicySpec,
    model::SecurityExperiencePolicy => model::SecurityExperiencePolicySpec,
    model::DefenderUpdateControlsPolicy => model::DefenderUpdateControlsPolicySpec,
    model::AntivirusExclusionsPolicy => model::AntivirusExclusionsPolicySpec,
    model::EndpointDetectionPolicy => model::EndpointDetectionPolicySpec,
    model::SettingsCatalogPolicy => model::SettingsCatalogPolicySpec,
    model::NotificationPolicy => model::NotificationPolicySpec,
    model::IntuneRole => model::IntuneRoleSpec,
    model::DetectionRule => model::DetectionRuleSpec,
    model::DefenderRole => model::DefenderRoleSpec,
    model::PolicyException => model::PolicyExceptionSpec,
    model::PolicyOverride => model::PolicyOverrideSpec,
    model::Case => model::CaseSpec,
}

/// Deserializes `value`, and on failure keeps going: the offending node is removed and deserialization
/// retried, so one run reports every independent error of the document, each at its own position.
/// Returns what is left of the document when it loads once its errors are removed.
fn deserialize_collecting<T: DeserializeOwned>(
    value: &Value,
    positions: &PositionIndex,
) -> (Option<T>, Vec<Diagnostic>) {
    let mut working = value.clone();
    let mut errors = Vec::new();
    let mut removed: HashSet<String> = HashSet::new();
    while errors.len() < MAX_ERRORS_PER_DOCUMENT {
        let error = match serde_path_to_error::deserialize::<_, T>(&working) {
            Ok(parsed) => return (Some(parsed), errors),
            Err(error) => error,
        };
        let path = error.path().to_string();
        // serde_path_to_error prints `?` for a map key it could not name (an enum key); the map is the place.
        let unnamed_key = path.ends_with('?');
        let path = path.strip_suffix(".?").or(path.strip_suffix("?")).unwrap_or(&path).to_string();
        let path = if path == "." { String::new() } else { path };
        let message = serde_message(&error.into_inner().to_string());
        if removed.contains(&path) {
            // The placeholder left for a removed list item; nothing new to learn past it.
            break;
        }
        if let Some(field) = quoted(&message, "missing field `") {
            // A required field we removed ourselves is an echo of an error already reported.
            if !removed.contains(&join(&path, &field)) {
                errors.push(Diagnostic::error(message).path(path.clone()).at(positions.key(&path)));
            }
            break;
        }
        let (culprit, at_key) = culprit_path(&working, &path, &message, unnamed_key);
        let location = if at_key { positions.key(&culprit) } else { positions.value(&culprit) };
        errors.push(Diagnostic::error(message).path(culprit.clone()).at(location));
        if !remove(&mut working, &culprit) {
            break;
        }
        removed.insert(culprit);
    }
    (None, errors)
}

/// The node an error is about, and whether the error is about its key: an unknown field or map key
/// is the key; anything else is the value. `unnamed_key` says the error came from inside a map whose
/// entry serde could not name, so the entry is found by its offending key or value.
fn culprit_path(root: &Value, path: &str, message: &str, unnamed_key: bool) -> (String, bool) {
    let unknown = quoted(message, "unknown field `").or_else(|| quoted(message, "unknown variant `"));
    let Some(unknown) = unknown else { return (path.to_string(), false) };
    if path.rsplit(['.', '[']).next() == Some(unknown.as_str()) {
        return (path.to_string(), true);
    }
    if let Some(Value::Object(map)) = lookup(root, path) {
        if map.contains_key(&unknown) {
            return (join(path, &unknown), true);
        }
        if unnamed_key && let Some((key, _)) = map.iter().find(|(_, v)| v.as_str() == Some(unknown.as_str())) {
            return (join(path, key), false);
        }
    }
    (path.to_string(), false)
}

/// The text between `prefix` and the next backtick.
fn quoted(message: &str, prefix: &str) -> Option<String> {
    let start = message.find(prefix)? + prefix.len();
    let end = message[start..].find('`')?;
    Some(message[start..start + end].to_string())
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

/// Splits `a.b[2].c` into its segments.
fn segments(path: &str) -> Vec<Segment> {
    let mut result = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (name, indexes) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            result.push(Segment::Key(name.to_string()));
        }
        for index in indexes.split('[').filter(|s| !s.is_empty()) {
            if let Ok(i) = index.trim_end_matches(']').parse() {
                result.push(Segment::Index(i));
            }
        }
    }
    result
}

enum Segment {
    Key(String),
    Index(usize),
}

fn lookup<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    segments(path).iter().try_fold(root, |node, segment| match segment {
        Segment::Key(key) => node.get(key),
        Segment::Index(i) => node.get(*i),
    })
}

fn remove(root: &mut Value, path: &str) -> bool {
    let parent = parent_path(path);
    let Some(last) = segments(path).pop() else { return false };
    let mut node = root;
    for segment in segments(parent) {
        let next = match segment {
            Segment::Key(key) => node.get_mut(&key),
            Segment::Index(i) => node.get_mut(i),
        };
        match next {
            Some(next) => node = next,
            None => return false,
        }
    }
    match (node, last) {
        (Value::Object(map), Segment::Key(key)) => map.shift_remove(&key).is_some(),
        (Value::Array(items), Segment::Index(i)) if i < items.len() => {
            // Replace rather than remove so the indexes of later items (and their positions) hold.
            items[i] = Value::Null;
            true
        }
        _ => false,
    }
}

/// Position of a document for messages that are not about one field.
pub fn document_location(source: Option<&Source>) -> Option<Location> {
    source.map(|s| s.start.clone())
}
