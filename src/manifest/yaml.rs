//! YAML → JSON values with the position of every node, so that any later error about a field can
//! point at `file:line:column`. Scalars resolve by the YAML 1.2 core schema (`yes`/`no`/`on`/`off`
//! stay strings), which is what Kubernetes and serde_yaml do too.
//!
//! Aliases are expanded here (each `*name` becomes a copy of its anchored node), so a small file can
//! describe an enormous tree: nine levels of ten aliases each (a "billion laughs") is 10⁹ nodes from
//! 1 KB of text. Every anchor's expanded size is therefore known as it closes, and a document whose
//! aliases would add more than [`MAX_ALIAS_NODES`] nodes is refused at the alias that crosses the
//! line, before any copy is made. Document length and nesting depth are bounded for the same reason:
//! the memory and stack a document can take must follow from limits, not from its author's goodwill.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::diagnostics::{Diagnostic, Location};

/// Most nodes that aliases may add to one document, counting every node of every copy. Real manifests
/// use a few anchors for repeated settings and stay in the hundreds; a billion laughs needs millions.
pub const MAX_ALIAS_NODES: usize = 100_000;

/// Longest document accepted, in characters. Manifests are a few KiB (the largest files in this
/// repository, the CRDs, are 14 KiB); 4 Mi leaves room for settings catalog policies with thousands of
/// settings and still bounds what one document can cost.
pub const MAX_DOCUMENT_CHARS: usize = 4 * 1024 * 1024;

/// Deepest nesting of sequences and mappings accepted. Manifests nest about ten levels; the later
/// stages (copying, deserializing, dropping values) recurse once per level, so unbounded nesting would
/// overflow the stack instead of failing with a message.
pub const MAX_DEPTH: usize = 128;

/// Where a node is: its value, and its key when it is a mapping entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodePosition {
    pub key: Option<(usize, usize)>,
    pub value: (usize, usize),
}

/// Positions of every node of one document, by field path (`spec.policies[0].name`, the format
/// serde_path_to_error prints).
#[derive(Clone, Debug, Default)]
pub struct PositionIndex {
    file: Arc<str>,
    nodes: HashMap<String, NodePosition>,
}

impl PositionIndex {
    pub fn file(&self) -> &Arc<str> {
        &self.file
    }

    fn location(&self, (line, column): (usize, usize)) -> Location {
        Location { file: self.file.clone(), line, column }
    }

    /// Position of the value at `path`, or of its nearest ancestor that exists.
    pub fn value(&self, path: &str) -> Option<Location> {
        self.find(path).map(|node| self.location(node.value))
    }

    /// Position of the key at `path` (falling back to the value, then to ancestors).
    pub fn key(&self, path: &str) -> Option<Location> {
        self.find(path).map(|node| self.location(node.key.unwrap_or(node.value)))
    }

    fn find(&self, path: &str) -> Option<&NodePosition> {
        let mut current = path;
        loop {
            if let Some(node) = self.nodes.get(current) {
                return Some(node);
            }
            if current.is_empty() {
                return None;
            }
            current = parent_path(current);
        }
    }
}

/// `a.b[2].c` → `a.b[2]` → `a.b` → `a` → ``.
pub fn parent_path(path: &str) -> &str {
    match path.rfind(['.', '[']) {
        Some(index) => &path[..index],
        None => "",
    }
}

/// One YAML document as JSON, with its position index.
#[derive(Clone, Debug)]
pub struct YamlDocument {
    pub value: Value,
    pub positions: PositionIndex,
    /// Position of the document's first node.
    pub start: Location,
}

/// Parses every document of a YAML stream. Documents before a syntax error are kept; the error is
/// returned alongside them.
pub fn parse_documents(file: &Arc<str>, text: &str) -> (Vec<YamlDocument>, Vec<Diagnostic>) {
    let mut builder = Builder::new(file.clone());
    // Events are pulled one at a time rather than through `Parser::load`, which recurses once per
    // nesting level and cannot be stopped: a refused document ends the stream at once.
    let mut parser = Parser::new_from_str(text);
    loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => break,
            Ok((event, mark)) => {
                if let Err(refusal) = builder.on_event(event, mark) {
                    builder.diagnostics.push(refusal);
                    break;
                }
            }
            Err(error) => {
                let mark = error.marker();
                let location = Location { file: file.clone(), line: mark.line(), column: mark.col() + 1 };
                let message = format!("invalid YAML: {}", error.info());
                builder.diagnostics.push(Diagnostic::error(message).at(Some(location)));
                break;
            }
        }
    }
    (builder.documents, builder.diagnostics)
}

/// A sequence or mapping being built. `first` is the document's node count when it opened, so that
/// when it closes the difference is its size with every alias inside it expanded.
enum Frame {
    Sequence {
        items: Vec<Value>,
        path: String,
        anchor: usize,
        first: usize,
    },
    Mapping {
        map: Map<String, Value>,
        path: String,
        anchor: usize,
        first: usize,
        key: Option<(String, (usize, usize))>,
    },
}

struct Builder {
    file: Arc<str>,
    documents: Vec<YamlDocument>,
    diagnostics: Vec<Diagnostic>,
    stack: Vec<Frame>,
    nodes: HashMap<String, NodePosition>,
    anchors: HashMap<usize, Value>,
    start: Option<(usize, usize)>,
    /// Where the current document starts: character index, and line and column.
    start_index: usize,
    start_position: (usize, usize),
    /// Nodes of the current document so far, aliases counted at their expanded size.
    node_count: usize,
    /// Nodes the current document's aliases have added so far.
    alias_nodes: usize,
    /// Expanded size of each anchored node, by anchor id.
    anchor_sizes: HashMap<usize, usize>,
}

impl Builder {
    fn new(file: Arc<str>) -> Self {
        Builder {
            file,
            documents: Vec::new(),
            diagnostics: Vec::new(),
            stack: Vec::new(),
            nodes: HashMap::new(),
            anchors: HashMap::new(),
            start: None,
            start_index: 0,
            start_position: (1, 1),
            node_count: 0,
            alias_nodes: 0,
            anchor_sizes: HashMap::new(),
        }
    }

    fn location(&self, (line, column): (usize, usize)) -> Location {
        Location { file: self.file.clone(), line, column }
    }

    /// The path a new node gets, or `None` when the node is a mapping key.
    fn next_path(&self) -> Option<(String, Option<(usize, usize)>)> {
        match self.stack.last() {
            None => Some((String::new(), None)),
            Some(Frame::Sequence { items, path, .. }) => Some((format!("{path}[{}]", items.len()), None)),
            Some(Frame::Mapping { key: None, .. }) => None,
            Some(Frame::Mapping { key: Some((key, key_pos)), path, .. }) => {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                Some((child, Some(*key_pos)))
            }
        }
    }

    fn begin_node(&mut self, position: (usize, usize)) -> Option<String> {
        self.start.get_or_insert(position);
        let (path, key) = self.next_path()?;
        self.nodes.insert(path.clone(), NodePosition { key, value: position });
        Some(path)
    }

    /// Attaches a finished node to its parent (or completes the document).
    fn attach(&mut self, value: Value, anchor: usize, size: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, value.clone());
            self.anchor_sizes.insert(anchor, size);
        }
        match self.stack.last_mut() {
            None => self.finish_document(value),
            Some(Frame::Sequence { items, .. }) => items.push(value),
            Some(Frame::Mapping { map, key, .. }) => {
                if let Some((name, _)) = key.take() {
                    map.insert(name, value);
                }
            }
        }
    }

    fn finish_document(&mut self, value: Value) {
        let nodes = std::mem::take(&mut self.nodes);
        let start = self.start.take().unwrap_or((1, 1));
        let start = self.location(start);
        self.documents.push(YamlDocument { value, positions: PositionIndex { file: self.file.clone(), nodes }, start });
    }

    fn scalar(&mut self, text: String, style: TScalarStyle, anchor: usize, tag: Option<Tag>, position: (usize, usize)) {
        self.node_count += 1;
        // A scalar in key position becomes the pending key of its mapping.
        let location = self.location(position);
        if let Some(Frame::Mapping { map, key: key @ None, path, .. }) = self.stack.last_mut() {
            if map.contains_key(&text) {
                let message = format!("duplicate key `{text}`");
                self.diagnostics.push(Diagnostic::error(message).at(Some(location)));
            }
            if map.is_empty() {
                // A block mapping's start event sits oddly (at its first `:`); its first key is where a
                // reader looks for it.
                if let Some(node) = self.nodes.get_mut(path.as_str()) {
                    node.value = position;
                }
            }
            *key = Some((text, position));
            return;
        }
        self.begin_node(position);
        let value = resolve_scalar(text, style, tag.as_ref());
        self.attach(value, anchor, 1);
    }

    /// Counts the nodes an alias adds, refusing the document before the copy is made when they take
    /// it past [`MAX_ALIAS_NODES`].
    fn count_alias(&mut self, anchor: usize, position: (usize, usize)) -> Result<(), Diagnostic> {
        let size = self.anchor_sizes.get(&anchor).copied().unwrap_or(1);
        self.alias_nodes = self.alias_nodes.saturating_add(size);
        self.node_count = self.node_count.saturating_add(size);
        if self.alias_nodes > MAX_ALIAS_NODES {
            let message = format!(
                "aliases expand past {MAX_ALIAS_NODES} nodes in this document (this alias alone copies {size} nodes); \
                 nested anchors and aliases that large are refused"
            );
            return Err(Diagnostic::error(message).at(Some(self.location(position))));
        }
        Ok(())
    }

    /// Receives one parser event; `Err` refuses the document (and ends the stream).
    fn on_event(&mut self, event: Event, mark: Marker) -> Result<(), Diagnostic> {
        let position = (mark.line(), mark.col() + 1);
        let document_length = mark.index().saturating_sub(self.start_index);
        if document_length > MAX_DOCUMENT_CHARS && event != Event::DocumentStart {
            let start = self.start_position;
            let message = format!(
                "this document is longer than {MAX_DOCUMENT_CHARS} characters ({} MiB), the most one manifest may be",
                MAX_DOCUMENT_CHARS / (1024 * 1024)
            );
            return Err(Diagnostic::error(message).at(Some(self.location(start))));
        }
        match event {
            Event::DocumentStart => {
                self.stack.clear();
                self.nodes.clear();
                self.start = None;
                self.start_index = mark.index();
                // An implicit document's start event is marked at its first `:`; its line is what counts.
                self.start_position = (position.0, 1);
                self.node_count = 0;
                self.alias_nodes = 0;
                self.anchor_sizes.clear();
                self.anchors.clear();
            }
            Event::Scalar(text, style, anchor, tag) => self.scalar(text, style, anchor, tag, position),
            Event::Alias(anchor) => {
                self.count_alias(anchor, position)?;
                let value = self.anchors.get(&anchor).cloned().unwrap_or(Value::Null);
                if let Some(Frame::Mapping { key: key @ None, .. }) = self.stack.last_mut() {
                    *key = Some((value.as_str().unwrap_or_default().to_string(), position));
                    return Ok(());
                }
                self.begin_node(position);
                self.attach(value, 0, 0);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.stack.len() >= MAX_DEPTH {
                    let message = format!("sequences and mappings nest deeper than {MAX_DEPTH} levels");
                    return Err(Diagnostic::error(message).at(Some(self.location(position))));
                }
                let first = self.node_count;
                self.node_count += 1;
                let is_mapping = matches!(event, Event::MappingStart(..));
                let path = match self.begin_node(position) {
                    Some(path) => path,
                    None => {
                        let message = "complex mapping keys are not supported";
                        self.diagnostics.push(Diagnostic::error(message).at(Some(self.location(position))));
                        String::from("?")
                    }
                };
                self.stack.push(if is_mapping {
                    Frame::Mapping { map: Map::new(), path, anchor, first, key: None }
                } else {
                    Frame::Sequence { items: Vec::new(), path, anchor, first }
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (value, anchor, first) = match self.stack.pop() {
                    Some(Frame::Sequence { items, anchor, first, .. }) => (Value::Array(items), anchor, first),
                    Some(Frame::Mapping { map, anchor, first, .. }) => (Value::Object(map), anchor, first),
                    None => return Ok(()),
                };
                let size = self.node_count - first;
                self.attach(value, anchor, size);
            }
            Event::DocumentEnd | Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
        Ok(())
    }
}

fn resolve_scalar(text: String, style: TScalarStyle, tag: Option<&Tag>) -> Value {
    if style != TScalarStyle::Plain || tag.is_some_and(|t| t.suffix == "str") {
        return Value::String(text);
    }
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(number) = parse_integer(&text) {
        return number;
    }
    if looks_like_float(&text)
        && let Some(number) = text.parse::<f64>().ok().and_then(Number::from_f64)
    {
        return Value::Number(number);
    }
    Value::String(text)
}

fn parse_integer(text: &str) -> Option<Value> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = if let Some(hex) = digits.strip_prefix("0x") {
        (16, hex)
    } else if let Some(octal) = digits.strip_prefix("0o") {
        (8, octal)
    } else {
        (10, digits)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i128::from_str_radix(digits, radix).ok()?;
    let number = if negative { -magnitude } else { magnitude };
    if let Ok(small) = i64::try_from(number) {
        Some(Value::from(small))
    } else {
        u64::try_from(number).ok().map(Value::from)
    }
}

/// YAML 1.2 core float syntax: `[-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`.
fn looks_like_float(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(index) => (&body[..index], Some(&body[index + 1..])),
        None => (body, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (!int.is_empty() || !frac.is_empty())
                && int.chars().all(|c| c.is_ascii_digit())
                && frac.chars().all(|c| c.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.chars().all(|c| c.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let digits = e.strip_prefix(['-', '+']).unwrap_or(e);
        !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Vec<YamlDocument>, Vec<Diagnostic>) {
        parse_documents(&Arc::from("t.yaml"), text)
    }

    #[test]
    fn values_and_positions_of_nested_nodes() {
        let (docs, diags) = parse("a: 1\nb:\n  - x: yes\n    y: \"7\"\n  - 2.5\nc: ~\n");
        assert!(diags.is_empty(), "{diags:?}");
        let doc = &docs[0];
        assert_eq!(doc.value, serde_json::json!({"a": 1, "b": [{"x": "yes", "y": "7"}, 2.5], "c": null}));
        assert_eq!(doc.positions.value("b[0].y").map(|l| (l.line, l.column)), Some((4, 8)));
        assert_eq!(doc.positions.key("b[0].y").map(|l| (l.line, l.column)), Some((4, 5)));
        assert_eq!(doc.positions.value("b[1]").map(|l| (l.line, l.column)), Some((5, 5)));
        // A missing path falls back to its nearest ancestor.
        assert_eq!(doc.positions.key("b[0].zzz").map(|l| l.line), Some(3));
    }

    #[test]
    fn multiple_documents_and_aliases() {
        let (docs, diags) = parse("---\nx: &v {k: 1}\ny: *v\n---\n- 1\n");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].value, serde_json::json!({"x": {"k": 1}, "y": {"k": 1}}));
        assert_eq!(docs[1].start.line, 5);
    }

    #[test]
    fn syntax_error_has_a_location() {
        let (_, diags) = parse("a: [1, 2\nb: 3\n");
        assert_eq!(diags.len(), 1);
        assert!(diags[0].location.is_some());
        assert!(diags[0].message.starts_with("invalid YAML"), "{}", diags[0].message);
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let (_, diags) = parse("a: 1\na: 2\n");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].to_string(), "t.yaml:2:1: error: duplicate key `a`");
    }

    #[test]
    fn core_schema_scalars() {
        let (docs, _) = parse("[0x1F, 0o17, -3, +4, 1e3, .5, on, 'true', 12345678901234567890, 1.2.3]");
        assert_eq!(
            docs[0].value,
            serde_json::json!([31, 15, -3, 4, 1000.0, 0.5, "on", "true", 12345678901234567890u64, "1.2.3"])
        );
    }

    /// Nine levels of ten aliases: 10⁹ nodes if expanded. Expanding even a tenth of it would take
    /// gigabytes and minutes; refusing it must take neither.
    fn billion_laughs() -> String {
        let mut text = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (previous, name) in
            ["a", "b", "c", "d", "e", "f", "g", "h"].iter().zip(["b", "c", "d", "e", "f", "g", "h", "i"])
        {
            let aliases = vec![format!("*{previous}"); 10].join(", ");
            text.push_str(&format!("{name}: &{name} [{aliases}]\n"));
        }
        text
    }

    #[test]
    fn a_billion_laughs_is_refused_at_the_alias_that_crosses_the_limit() {
        let started = std::time::Instant::now();
        let (docs, diags) = parse(&billion_laughs());
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "took {:?}", started.elapsed());
        assert!(docs.is_empty(), "the document is not kept");
        assert_eq!(diags.len(), 1, "{diags:?}");
        // Levels b, c and d add 110 + 1 110 + 11 110 nodes; the eighth alias of level e (11 111 nodes
        // each) is the first past 100 000.
        let location = diags[0].location.as_ref().map(|l| (l.line, l.column));
        assert_eq!(location, Some((5, 36)));
        assert!(diags[0].message.contains("aliases expand past 100000 nodes"), "{}", diags[0].message);
    }

    #[test]
    fn aliases_within_the_limit_expand() {
        // 50 copies of a 1 001-node list: about half the limit.
        let items = vec!["x"; 1000].join(", ");
        let aliases = vec!["*big"; 50].join(", ");
        let (docs, diags) = parse(&format!("big: &big [{items}]\ncopies: [{aliases}]\n"));
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(docs[0].value["copies"].as_array().map(Vec::len), Some(50));
        assert_eq!(docs[0].value["copies"][49].as_array().map(Vec::len), Some(1000));
    }

    #[test]
    fn the_alias_budget_is_per_document() {
        let items = vec!["x"; 1000].join(", ");
        let aliases = vec!["*big"; 60].join(", ");
        let document = format!("big: &big [{items}]\ncopies: [{aliases}]\n");
        let (docs, diags) = parse(&format!("---\n{document}---\n{document}"));
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(docs.len(), 2);
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let (docs, diags) = parse(&"- ".repeat(100_000));
        assert!(docs.is_empty());
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(diags[0].message.contains("nest deeper than 128 levels"), "{}", diags[0].message);
        let (_, diags) = parse(&format!("{}1{}", "[".repeat(100), "]".repeat(100)));
        assert!(diags.is_empty(), "{diags:?}");
    }

    #[test]
    fn an_overlong_document_is_refused_and_earlier_ones_kept() {
        let long = "x".repeat(MAX_DOCUMENT_CHARS + 1);
        let (docs, diags) = parse(&format!("a: 1\n---\nb: {long}\n"));
        assert_eq!(docs.len(), 1);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].location.as_ref().map(|l| l.line), Some(2), "the `---` that opens it");
        assert!(diags[0].message.contains("longer than 4194304 characters"), "{}", diags[0].message);
    }
}
