//! The layering, enforced: the pure core (model, wire, mapping, manifest, engine, render) imports no IO
//! crate and no IO module, lower layers never import higher ones, and no two files of one layer import
//! each other in a circle. Read from the `use` lines (and inline `crate::` paths) of `src/`, test-only
//! modules left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Which top-level modules each module may import (besides itself).
const ALLOWED: &[(&str, &[&str])] = &[
    ("util", &[]),
    ("model", &["util"]),
    ("wire", &["util", "model"]),
    ("mapping", &["util", "model", "wire"]),
    ("manifest", &["util", "model", "wire", "mapping"]),
    ("engine", &["util", "model", "wire", "mapping", "manifest"]),
    ("render", &["util", "model", "wire", "engine"]),
    ("notify", &["util", "model", "wire", "engine"]),
    ("security", &["util", "model", "wire"]),
    ("graph", &["util", "model", "wire", "mapping", "engine"]),
    ("lab", &["util", "model", "wire", "mapping"]),
    ("operator", &["util", "model", "wire", "mapping", "manifest", "engine", "render", "notify", "security", "graph"]),
    (
        "cli",
        &[
            "util", "model", "wire", "mapping", "manifest", "engine", "render", "notify", "security", "graph", "lab",
            "operator",
        ],
    ),
];

/// Modules that hold no IO: they may not name these crates (or these parts of kube, whose derives and
/// metadata traits are data and welcome).
const PURE: &[&str] = &["util", "model", "wire", "mapping", "manifest", "engine", "render"];
const IO_CRATES: &[&str] = &[
    "tokio",
    "reqwest",
    "axum",
    "hyper",
    "lettre",
    "kube::runtime",
    "kube::api",
    "kube::Api",
    "kube::Client",
    "kube::config",
];

/// Layers whose files must not import each other in a circle.
const ACYCLIC: &[&str] = &["engine", "lab", "manifest", "mapping", "model", "operator", "graph"];

struct Source {
    /// `engine::managed::roles`.
    module: String,
    text: String,
}

fn sources() -> Vec<Source> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect(&root, &mut files);
    let mut test_only = BTreeSet::new();
    let mut sources: Vec<Source> = files
        .iter()
        .map(|path| {
            let relative = path.strip_prefix(&root).expect("under src").with_extension("");
            let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            let module = parts.join("::");
            let text = std::fs::read_to_string(path).expect("source");
            test_only.extend(test_modules(&text).into_iter().map(|m| format!("{module}::{m}")));
            Source { text: without_tests(&text), module }
        })
        .collect();
    sources.retain(|s| !test_only.iter().any(|t| s.module == *t || s.module.starts_with(&format!("{t}::"))));
    sources
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// `mod x;` declared under `#[cfg(test)]`.
fn test_modules(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    lines
        .windows(2)
        .filter(|w| w[0] == "#[cfg(test)]")
        .filter_map(|w| w[1].strip_prefix("mod ").or_else(|| w[1].strip_prefix("pub mod ")))
        .filter_map(|rest| rest.strip_suffix(';'))
        .map(str::to_string)
        .collect()
}

/// The text before an inline `#[cfg(test)] mod tests { … }` (which always closes a file here).
fn without_tests(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .windows(2)
        .position(|w| w[0].trim() == "#[cfg(test)]" && w[1].trim_start().starts_with("mod ") && w[1].contains('{'))
        .unwrap_or(lines.len());
    lines[..end].join("\n")
}

/// Every path a file names: `use` trees expanded, and inline `crate::…` paths.
fn paths(text: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("use ") {
        let before = &rest[..start];
        let at_line_start =
            before.ends_with('\n') || before.is_empty() || before.ends_with("pub ") || before.ends_with("    ");
        let Some(end) = rest[start..].find(';') else { break };
        if at_line_start {
            // Spaces kept (one each), so that `x as y` still reads as an alias.
            let tree: String = rest[start + 4..start + end].split_whitespace().collect::<Vec<_>>().join(" ");
            expand("", &tree, &mut paths);
        }
        rest = &rest[start + end + 1..];
    }
    let bytes = text.as_bytes();
    let mut index = 0;
    while let Some(found) = text[index..].find("crate::") {
        let start = index + found;
        let mut end = start;
        while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_' || bytes[end] == b':') {
            end += 1;
        }
        paths.push(text[start..end].trim_end_matches(':').to_string());
        index = end.max(start + 1);
    }
    paths
}

/// `a::{b, c::{d}}` → `a::b`, `a::c::d`.
fn expand(prefix: &str, tree: &str, out: &mut Vec<String>) {
    match tree.find('{') {
        None => {
            let tree = tree.trim();
            out.push(format!("{prefix}{}", tree.split(" as ").next().unwrap_or(tree)));
        }
        Some(open) => {
            let head = tree[..open].trim();
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            let mut depth = 0;
            let mut item = String::new();
            for c in inner.chars().chain([',']) {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        if !item.is_empty() {
                            expand(&format!("{prefix}{head}"), &item, out);
                        }
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
        }
    }
}

/// The module a path names, from the file's own module: `super::x` and `crate::a::b` resolved.
fn absolute(module: &str, path: &str) -> Option<String> {
    if let Some(rest) = path.strip_prefix("crate::") {
        return Some(rest.to_string());
    }
    let mut base: Vec<&str> = module.split("::").collect();
    let mut rest = path.strip_prefix("super::")?;
    base.pop();
    while let Some(r) = rest.strip_prefix("super::") {
        rest = r;
        base.pop();
    }
    Some(if base.is_empty() { rest.to_string() } else { format!("{}::{rest}", base.join("::")) })
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

#[test]
fn layers_import_only_downwards_and_the_core_does_no_io() {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut wrong = BTreeSet::new();
    for source in sources() {
        let layer = top(&source.module).to_string();
        if ["lib", "main"].contains(&layer.as_str()) {
            continue;
        }
        let Some(may) = allowed.get(layer.as_str()) else {
            wrong.insert(format!("{}: the layer `{layer}` is not in the table of tests/layers.rs", source.module));
            continue;
        };
        for path in paths(&source.text) {
            if PURE.contains(&layer.as_str())
                && IO_CRATES.iter().any(|c| path == *c || path.starts_with(&format!("{c}::")))
            {
                wrong.insert(format!("{}: `{path}` (IO in the pure core)", source.module));
            }
            let Some(target) = absolute(&source.module, &path) else { continue };
            let target_layer = top(&target);
            if target_layer != layer && !may.contains(&target_layer) && allowed.contains_key(target_layer) {
                wrong.insert(format!("{} → {target} (`{layer}` may not import `{target_layer}`)", source.module));
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layering:\n{}", wrong.into_iter().collect::<Vec<_>>().join("\n"));
}

#[test]
fn files_of_a_layer_do_not_import_each_other_in_a_circle() {
    let sources = sources();
    let modules: BTreeSet<String> = sources.iter().map(|s| s.module.clone()).collect();
    // The file a path lands in: the longest module prefix of it.
    let file_of = |path: &str| -> Option<String> {
        let parts: Vec<&str> = path.split("::").collect();
        (1..=parts.len()).rev().map(|n| parts[..n].join("::")).find(|m| modules.contains(m))
    };
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for source in &sources {
        if !ACYCLIC.contains(&top(&source.module)) {
            continue;
        }
        for path in paths(&source.text) {
            let Some(target) = absolute(&source.module, &path).and_then(|p| file_of(&p)) else { continue };
            // A parent names its children to declare and re-export them; only the other way is a dependency.
            let child = target.starts_with(&format!("{}::", source.module));
            if target != source.module && top(&target) == top(&source.module) && !child {
                edges.entry(source.module.clone()).or_default().insert(target);
            }
        }
    }
    let mut circles = Vec::new();
    for start in edges.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((node, path)) = stack.pop() {
            for next in edges.get(&node).into_iter().flatten() {
                if next == start {
                    circles.push(path.join(" → ") + &format!(" → {start}"));
                } else if seen.insert(next.clone()) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
    assert!(circles.is_empty(), "files importing each other in a circle:\n{}", circles.join("\n"));
}

#[test]
fn the_reader_sees_what_it_must() {
    let mut out = Vec::new();
    expand("", "crate::engine::{api::{ApiError, Reply}, plan}", &mut out);
    assert_eq!(out, vec!["crate::engine::api::ApiError", "crate::engine::api::Reply", "crate::engine::plan"]);
    assert_eq!(absolute("engine::managed::roles", "super::LiveTenant").as_deref(), Some("engine::managed::LiveTenant"));
    assert_eq!(absolute("engine::managed", "super::plan::Write").as_deref(), Some("engine::plan::Write"));
    assert_eq!(absolute("lab::batch", "super::super::x").as_deref(), Some("x"));
    let text = "use tokio::sync::Mutex;\nfn f() { crate::graph::client::parse(); }\n#[cfg(test)]\nmod tests {\nuse reqwest;\n}";
    assert_eq!(paths(&without_tests(text)), vec!["tokio::sync::Mutex", "crate::graph::client::parse"]);
}
