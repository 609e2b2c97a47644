//! The manifest shape of a list of nodes: the nodes reachable without entering a list item, arranged
//! by their paths. Validation, the JSON Schema and the wire reader all look settings up through it.

use serde_json::{Map, Value};

use super::{Node, Shape};

/// Fields of one manifest object: a setting, or an object of further fields.
#[derive(Debug)]
pub enum Field<'a> {
    Setting(&'a Node),
    Object(Scope<'a>),
}

/// The fields of a manifest object, in table order.
#[derive(Debug, Default)]
pub struct Scope<'a> {
    pub fields: Vec<(String, Field<'a>)>,
    /// Groups whose path is this object, for its description.
    pub doc: Option<&'a str>,
}

impl<'a> Scope<'a> {
    /// The scope of `nodes`: every node except groups is a field; children of choices and groups are
    /// fields of the same scope; children of lists are not (each item is a scope of its own).
    pub fn of(nodes: &'a [Node]) -> Scope<'a> {
        let mut scope = Scope::default();
        let mut stack: Vec<&'a Node> = nodes.iter().rev().collect();
        while let Some(node) = stack.pop() {
            match node.shape {
                Shape::Group => {
                    if let Some(object) = scope.object_at(&node.path) {
                        object.doc = Some(node.doc.as_str());
                    }
                }
                _ => scope.insert(&node.path, node),
            }
            if !matches!(node.shape, Shape::GroupList { .. }) {
                stack.extend(node.children.iter().rev());
            }
        }
        scope
    }

    fn object_at(&mut self, path: &[String]) -> Option<&mut Scope<'a>> {
        let Some((head, rest)) = path.split_first() else { return Some(self) };
        let index = match self.fields.iter().position(|(name, _)| name == head) {
            Some(index) => index,
            None => {
                self.fields.push((head.clone(), Field::Object(Scope::default())));
                self.fields.len() - 1
            }
        };
        match &mut self.fields[index].1 {
            Field::Object(scope) => scope.object_at(rest),
            // A setting and an object at one path is a table error the tables' tests catch.
            Field::Setting(_) => None,
        }
    }

    fn insert(&mut self, path: &[String], node: &'a Node) {
        let Some((last, parents)) = path.split_last() else { return };
        let Some(parent) = self.object_at(parents) else { return };
        if !parent.fields.iter().any(|(name, _)| name == last) {
            parent.fields.push((last.clone(), Field::Setting(node)));
        }
    }

    pub fn get(&self, name: &str) -> Option<&Field<'a>> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, field)| field)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(name, _)| name.as_str())
    }

    /// `object` with its fields in table order (and list items' fields in their items' order), so
    /// that a policy read from Graph, whatever order Graph listed its settings in, shows and exports
    /// the way the same policy written by hand does. Fields the table does not know go last.
    pub fn ordered(&self, mut object: Map<String, Value>) -> Map<String, Value> {
        let mut ordered = Map::new();
        for (name, field) in &self.fields {
            let Some(value) = object.remove(name) else { continue };
            let value = match (field, value) {
                (Field::Object(scope), Value::Object(inner)) => Value::Object(scope.ordered(inner)),
                (Field::Setting(node), Value::Array(items)) if matches!(node.shape, Shape::GroupList { .. }) => {
                    let item_scope = Scope::of(&node.children);
                    Value::Array(
                        items
                            .into_iter()
                            .map(|item| match item {
                                Value::Object(item) => Value::Object(item_scope.ordered(item)),
                                other => other,
                            })
                            .collect(),
                    )
                }
                (_, value) => value,
            };
            ordered.insert(name.clone(), value);
        }
        ordered.extend(object);
        ordered
    }
}

/// The value at `path` in a manifest object.
pub fn value_at<'v>(
    object: &'v serde_json::Map<String, serde_json::Value>,
    path: &[String],
) -> Option<&'v serde_json::Value> {
    let (first, rest) = path.split_first()?;
    let mut value = object.get(first)?;
    for segment in rest {
        value = value.as_object()?.get(segment)?;
    }
    (!value.is_null()).then_some(value)
}
