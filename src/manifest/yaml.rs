//! YAML → JSON values with the position of every node, so that any later error about a field can
//! point at `file:line:column`. Scalars resolve by the YAML 1.2 core schema (`yes`/`no`/`on`/`off`
//! stay strings), which is what Kubernetes and serde_yaml do too.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::diagnostics::{Diagnostic, Location};

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
    let mut parser = Parser::new_from_str(text);
    if let Err(error) = parser.load(&mut builder, true) {
        let mark = error.marker();
        let location = Location { file: file.clone(), line: mark.line(), column: mark.col() + 1 };
        builder.diagnostics.push(Diagnostic::error(format!("invalid YAML: {}", error.info())).at(Some(location)));
    }
    (builder.documents, builder.diagnostics)
}

enum Frame {
    Sequence { items: Vec<Value>, path: String, anchor: usize },
    Mapping { map: Map<String, Value>, path: String, anchor: usize, key: Option<(String, (usize, usize))> },
}

struct Builder {
    file: Arc<str>,
    documents: Vec<YamlDocument>,
    diagnostics: Vec<Diagnostic>,
    stack: Vec<Frame>,
    nodes: HashMap<String, NodePosition>,
    anchors: HashMap<usize, Value>,
    start: Option<(usize, usize)>,
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
    fn attach(&mut self, value: Value, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, value.clone());
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
        self.attach(value, anchor);
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let position = (mark.line(), mark.col() + 1);
        match event {
            Event::DocumentStart => {
                self.stack.clear();
                self.nodes.clear();
                self.start = None;
            }
            Event::Scalar(text, style, anchor, tag) => self.scalar(text, style, anchor, tag, position),
            Event::Alias(anchor) => {
                let value = self.anchors.get(&anchor).cloned().unwrap_or(Value::Null);
                if let Some(Frame::Mapping { key: key @ None, .. }) = self.stack.last_mut() {
                    *key = Some((value.as_str().unwrap_or_default().to_string(), position));
                    return;
                }
                self.begin_node(position);
                self.attach(value, 0);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
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
                    Frame::Mapping { map: Map::new(), path, anchor, key: None }
                } else {
                    Frame::Sequence { items: Vec::new(), path, anchor }
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (value, anchor) = match self.stack.pop() {
                    Some(Frame::Sequence { items, anchor, .. }) => (Value::Array(items), anchor),
                    Some(Frame::Mapping { map, anchor, .. }) => (Value::Object(map), anchor),
                    None => return,
                };
                self.attach(value, anchor);
            }
            Event::DocumentEnd | Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
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
}
