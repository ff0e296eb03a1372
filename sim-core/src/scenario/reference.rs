//! The scenario format's reference, generated from the schema types themselves.
//!
//! `schemars` reads the types in [`super::model`] (their doc comments, serde defaults and
//! variants); this module turns that schema into Markdown, with each section's example cut
//! from the shipped scenario. `docs/scenario-reference.md` is this output, and a test
//! fails when the two differ, so the reference cannot drift from the code.

use std::collections::{BTreeSet, VecDeque};
use std::fmt::Write;

use serde_json::{Map, Value};

use super::locate::SourceMap;
use super::model::Scenario;

/// The shipped scenarios whose sections serve as examples: a section's example comes from
/// the first that writes it out (the introductory case has no crowd and keeps the tip-off
/// defaults).
const EXAMPLES: &[(&str, &str)] = &[
    ("scenarios/careless-vendor.ron", include_str!("../../../scenarios/careless-vendor.ron")),
    ("scenarios/busy-market.ron", include_str!("../../../scenarios/busy-market.ron")),
    ("scenarios/keyed-vendor.ron", include_str!("../../../scenarios/keyed-vendor.ron")),
];

/// The JSON Schema of the format (draft 2020-12).
pub fn schema() -> Value {
    serde_json::to_value(schemars::schema_for!(Scenario)).unwrap_or(Value::Null)
}

fn ref_name(v: &Value) -> Option<&str> {
    v.get("$ref").and_then(Value::as_str).and_then(|r| r.rsplit('/').next())
}

fn anchor(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// A type as the reference writes it, with a link for named types.
fn type_of(v: &Value) -> String {
    if let Some(name) = ref_name(v) {
        return format!("[{name}](#{})", anchor(name));
    }
    if let Some(any) = v.get("anyOf").and_then(Value::as_array) {
        let parts: Vec<&Value> = any.iter().filter(|x| x.get("type").and_then(Value::as_str) != Some("null")).collect();
        if parts.len() == 1 && any.len() == 2 {
            return format!("optional {}", type_of(parts[0]));
        }
    }
    match v.get("type") {
        Some(Value::Array(ts)) => {
            let non_null: Vec<&Value> = ts.iter().filter(|t| t.as_str() != Some("null")).collect();
            let mut inner = v.clone();
            if let (Some(t), Some(map)) = (non_null.first(), inner.as_object_mut()) {
                map.insert("type".into(), (*t).clone());
            }
            if non_null.len() < ts.len() { format!("optional {}", type_of(&inner)) } else { type_of(&inner) }
        }
        Some(Value::String(t)) => match t.as_str() {
            "array" => format!("list of {}", v.get("items").map(type_of).unwrap_or_else(|| "values".into())),
            "integer" => match v.get("format").and_then(Value::as_str) {
                Some(f) => format!("integer ({f})"),
                None => "integer".into(),
            },
            "string" => match v.get("format").and_then(Value::as_str) {
                Some("date-time") => "time (`\"YYYY-MM-DDTHH:MM:SSZ\"`)".into(),
                Some(f) => format!("string ({f})"),
                None if v.get("pattern").is_some() => "duration (`\"90s\"`, `\"2h30m\"`, `\"3d\"`)".into(),
                None => "string".into(),
            },
            other => other.to_string(),
        },
        _ => "value".into(),
    }
}

fn description(v: &Value) -> String {
    v.get("description").and_then(Value::as_str).unwrap_or("").replace('\n', " ")
}

/// Names of the types referenced from `v`, in order of appearance.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(name) = ref_name(v) {
                out.push(name.to_string());
            }
            for x in m.values() {
                refs(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

fn field_table(out: &mut String, props: &Map<String, Value>, required: &BTreeSet<&str>) {
    out.push_str("| field | type | required | meaning |\n|---|---|---|---|\n");
    for (name, p) in props {
        let req = if required.contains(name.as_str()) {
            "yes".to_string()
        } else {
            match p.get("default") {
                Some(d) => format!("no (default `{}`)", d),
                None => "no".to_string(),
            }
        };
        let _ = writeln!(out, "| `{name}` | {} | {req} | {} |", type_of(p), description(p));
    }
    out.push('\n');
}

fn variant_line(out: &mut String, v: &Value) {
    if let Some(consts) = v.get("enum").and_then(Value::as_array) {
        for c in consts {
            let _ = writeln!(out, "- `{}` — {}", c.as_str().unwrap_or("?"), description(v));
        }
        return;
    }
    if let Some(c) = v.get("const").and_then(Value::as_str) {
        let _ = writeln!(out, "- `{c}` — {}", description(v));
        return;
    }
    let Some(props) = v.get("properties").and_then(Value::as_object) else { return };
    for (variant, payload) in props {
        let desc = description(v);
        if let Some(inner) = payload.get("properties").and_then(Value::as_object) {
            let fields: Vec<String> = inner.keys().map(|k| format!("{k}: …")).collect();
            let _ = writeln!(out, "- `{variant}({})` — {desc}", fields.join(", "));
            for (k, f) in inner {
                let _ = writeln!(out, "  - `{k}`: {} — {}", type_of(f), description(f));
            }
        } else if payload.get("prefixItems").is_some() {
            let items: Vec<String> = payload["prefixItems"].as_array().into_iter().flatten().map(type_of).collect();
            let _ = writeln!(out, "- `{variant}(…)` ({}) — {desc}", items.join(", "));
        } else {
            let _ = writeln!(out, "- `{variant}(…)` ({}) — {desc}", type_of(payload));
        }
    }
}

fn type_section(out: &mut String, name: &str, def: &Value) {
    let _ = writeln!(out, "### {name}\n");
    let desc = description(def);
    if !desc.is_empty() {
        let _ = writeln!(out, "{desc}\n");
    }
    if let Some(props) = def.get("properties").and_then(Value::as_object) {
        let required: BTreeSet<&str> =
            def.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        let _ = writeln!(out, "Written `{name}( … )` or `( … )` with these fields:\n");
        field_table(out, props, &required);
    } else if let Some(variants) = def.get("oneOf").or_else(|| def.get("anyOf")).and_then(Value::as_array) {
        out.push_str("One of:\n\n");
        for v in variants {
            variant_line(out, v);
        }
        out.push('\n');
    } else if def.get("enum").is_some() {
        out.push_str("One of:\n\n");
        variant_line(out, def);
        out.push('\n');
    } else {
        let _ = writeln!(out, "Written as {}.\n", type_of(def));
    }
}

/// The whole reference in Markdown.
pub fn markdown() -> String {
    let schema = schema();
    let defs = schema.get("$defs").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut out = String::new();
    out.push_str("# Scenario format reference (v1)\n\n");
    out.push_str("Generated by `darklab docs scenario` from the schema types in `sim-core/src/scenario/model.rs`; do not edit by hand. ");
    out.push_str("A scenario is one RON file. Structs are written `Name(field: value, …)` (the name may be left out), lists `[a, b]`, ");
    out.push_str("optional values `Some(x)` or `None`, enum variants `Variant`, `Variant(value)` or `Variant(field: value)`. ");
    out.push_str("Unknown fields are errors. `darklab check FILE` validates a file; see `docs/authoring-guide.md` for a walk-through.\n\n");
    out.push_str("## Sections\n\n");
    let maps: Vec<(&str, &str, SourceMap)> = EXAMPLES.iter().map(|(file, text)| (*file, *text, SourceMap::new(text))).collect();
    let props = schema.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
    let required: BTreeSet<&str> =
        schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    field_table(&mut out, &props, &required);
    for (name, p) in &props {
        let _ = writeln!(out, "### `{name}`\n\n{} Type: {}.\n", description(p), type_of(p));
        let found = maps.iter().map(|(file, text, map)| (*file, *text, map.locate(name))).find(|(_, _, at)| at.exact);
        if let Some((file, text, at)) = found {
            let snippet = text.get(at.span.start..at.span.end).unwrap_or("");
            // Dedent by the indentation of the line the section starts on.
            let line_start = text.get(..at.span.start).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
            let indent = text.get(line_start..at.span.start).map_or(0, |t| t.len() - t.trim_start().len());
            let body: Vec<&str> =
                snippet.lines().map(|l| if l.len() - l.trim_start().len() >= indent { &l[indent..] } else { l.trim_start() }).collect();
            let _ = writeln!(out, "Example (from `{file}`):\n\n```ron\n{name}: {}\n```\n", body.join("\n").trim_end());
        }
    }
    out.push_str("## Types\n\n");
    let mut order: Vec<String> = Vec::new();
    let mut queue: VecDeque<String> = VecDeque::new();
    let mut start = Vec::new();
    refs(&Value::Object(props), &mut start);
    queue.extend(start);
    let mut seen = BTreeSet::new();
    while let Some(n) = queue.pop_front() {
        if !seen.insert(n.clone()) {
            continue;
        }
        if let Some(def) = defs.get(&n) {
            let mut next = Vec::new();
            refs(def, &mut next);
            queue.extend(next);
        }
        order.push(n);
    }
    for n in defs.keys() {
        if !seen.contains(n) {
            order.push(n.clone());
        }
    }
    for n in &order {
        if let Some(def) = defs.get(n) {
            type_section(&mut out, n, def);
        }
    }
    out
}

/// Every (type, field) pair of the schema, for checking the reference covers them all.
pub fn fields() -> Vec<(String, String)> {
    let schema = schema();
    let mut out: Vec<(String, String)> = Vec::new();
    let mut collect = |ty: &str, v: &Value| {
        for k in v.get("properties").and_then(Value::as_object).into_iter().flat_map(|m| m.keys()) {
            out.push((ty.to_string(), k.clone()));
        }
    };
    collect("Scenario", &schema);
    for (name, def) in schema.get("$defs").and_then(Value::as_object).into_iter().flatten() {
        collect(name, def);
        for v in def.get("oneOf").and_then(Value::as_array).into_iter().flatten() {
            for (variant, payload) in v.get("properties").and_then(Value::as_object).into_iter().flatten() {
                collect(&format!("{name}::{variant}"), payload);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_file(rel: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
    }

    /// The committed reference is exactly what the schema generates
    /// (`DARKLAB_BLESS=1 cargo test -p sim-core` rewrites it).
    #[test]
    fn committed_reference_matches_the_schema() {
        let path = repo_file("docs/scenario-reference.md");
        let generated = markdown();
        if std::env::var_os("DARKLAB_BLESS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/scenario-reference.md is stale: run `cargo run -p game --bin darklab -- docs scenario > docs/scenario-reference.md`"
        );
    }

    /// Every field of every type appears in that type's section of the reference.
    #[test]
    fn reference_covers_every_field_of_the_schema() {
        let doc = markdown();
        let section = |ty: &str| -> String {
            let head = if ty == "Scenario" { "## Sections\n".to_string() } else { format!("### {ty}\n") };
            let start = doc.find(&head).unwrap_or_else(|| panic!("no section for {ty}"));
            let rest = &doc[start + head.len()..];
            let end =
                if ty == "Scenario" { rest.find("## Types").unwrap_or(rest.len()) } else { rest.find("\n### ").unwrap_or(rest.len()) };
            rest[..end].to_string()
        };
        let all = fields();
        assert!(all.len() > 100, "the schema has many fields: {}", all.len());
        for (ty, field) in all {
            let owner = ty.split("::").next().unwrap_or(&ty);
            assert!(section(owner).contains(&format!("`{field}`")), "field `{field}` of {ty} is missing from the reference");
        }
    }

    /// Every field row gives a type and a meaning, and every variant a meaning (a field or
    /// variant without a doc comment in `model.rs` fails here).
    #[test]
    fn every_field_and_variant_has_a_type_and_a_meaning() {
        let doc = markdown();
        let mut rows = 0;
        for line in doc.lines() {
            if line.starts_with("| `") {
                let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
                assert_eq!(cells.len(), 4, "{line}");
                assert!(!cells[1].is_empty() && !cells[3].is_empty(), "no type or meaning: {line}");
                rows += 1;
            } else if line.starts_with("- `") || line.starts_with("  - `") {
                let meaning = line.split_once(" — ").map_or("", |(_, m)| m.trim());
                assert!(!meaning.is_empty(), "no meaning: {line}");
            }
        }
        assert!(rows > 100, "{rows} field rows");
    }

    /// Every section of the schema, not a list kept by hand, has an example cut from a
    /// shipped scenario that parses.
    #[test]
    fn every_top_level_section_has_an_example() {
        let doc = markdown();
        let schema = schema();
        let sections: Vec<&String> = schema.get("properties").and_then(Value::as_object).into_iter().flat_map(|m| m.keys()).collect();
        assert!(sections.len() >= 16, "{sections:?}");
        for name in sections {
            assert!(doc.contains(&format!("```ron\n{name}: ")), "no example for {name}");
        }
        for (file, text) in EXAMPLES {
            assert!(crate::scenario::load_str(file, text).is_ok(), "{file} is a sound example");
        }
    }
}
