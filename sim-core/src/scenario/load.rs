//! Loading a scenario file: RON parsing with located, explained diagnostics.
//!
//! [`load_str`] and [`load_file`] parse with `ron` through `serde_path_to_error`, so a
//! syntax or type error carries both a position and the field path it happened under;
//! after a successful parse they run [`check`] and turn every
//! problem into a [`Diagnostic`] located with [`SourceMap`]. All diagnostics render
//! through miette's graphical handler, after a first line in the compiler style
//! `<file>:<line>:<col>: error: <path>: <message>` that tools and tests can match.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode};
use serde::de::DeserializeOwned;
use serde_path_to_error::Segment as PathSegment;

use super::check::{Problem, check, did_you_mean};
use super::locate::{ByteSpan, SourceMap};
use super::model::Scenario;

/// How the empty path (the whole document) is shown.
pub const ROOT_PATH: &str = "<root>";

/// One located problem in a scenario file.
#[derive(Clone)]
pub struct Diagnostic {
    /// The file name as given to the loader.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The field path, e.g. `cast[2].personas[0].handle` (empty: the whole document).
    pub path: String,
    /// What was expected and what was found.
    pub message: String,
    /// How to fix it, when we know.
    pub help: Option<String>,
    /// Short text under the source snippet.
    pub label: String,
    span: ByteSpan,
    source: NamedSource<Arc<str>>,
}

impl Diagnostic {
    /// The path as displayed (`<root>` for the whole document).
    pub fn display_path(&self) -> &str {
        if self.path.is_empty() { ROOT_PATH } else { &self.path }
    }

    /// The first line of the rendered diagnostic: `<file>:<line>:<col>: error: <path>: <message>`.
    pub fn headline(&self) -> String {
        format!("{}:{}:{}: error: {}: {}", self.file, self.line, self.column, self.display_path(), self.message)
    }

    /// The headline followed by miette's graphical report (snippet, label, help).
    pub fn render(&self, color: bool) -> String {
        let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
        let handler = GraphicalReportHandler::new_themed(theme).with_width(120).with_links(false);
        let mut out = self.headline();
        out.push('\n');
        let mut report = String::new();
        if handler.render_report(&mut report, self).is_err() {
            report = format!("  × {}\n", self.message);
        }
        out.push_str(&report);
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out
    }

    fn new(file: &str, map: &SourceMap, source: &Arc<str>, span: ByteSpan, path: String, message: String) -> Self {
        let (line, column) = map.line_col(span.start);
        Diagnostic {
            file: file.to_string(),
            line,
            column,
            path,
            message,
            help: None,
            label: String::from("here"),
            span,
            source: NamedSource::new(file, Arc::clone(source)),
        }
    }

    fn with_help(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }
}

impl fmt::Debug for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Diagnostic")
            .field("file", &self.file)
            .field("line", &self.line)
            .field("column", &self.column)
            .field("path", &self.path)
            .field("message", &self.message)
            .field("help", &self.help)
            .finish()
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.display_path(), self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let len = self.span.end.saturating_sub(self.span.start);
        let span = LabeledSpan::new(Some(self.label.clone()), self.span.start, len);
        Some(Box::new(std::iter::once(span)))
    }
}

/// Every problem found in one scenario file (never empty when returned as an error).
#[derive(Clone, Debug, thiserror::Error)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// The diagnostics, in the order found (syntax first, then checks in document order).
    pub fn items(&self) -> &[Diagnostic] {
        &self.items
    }

    /// Iterates over the diagnostics.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.items.iter()
    }

    /// Number of diagnostics.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none (never true for an error returned by the loader).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Renders every diagnostic (headline plus graphical report), separated by blank lines.
    pub fn render(&self, color: bool) -> String {
        let mut out = String::new();
        for (i, d) in self.items.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&d.render(color));
        }
        out
    }
}

impl fmt::Display for Diagnostics {
    /// One headline per diagnostic, one per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.items.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            f.write_str(&d.headline())?;
        }
        Ok(())
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// Reads and checks a scenario file; I/O and encoding errors become diagnostics too.
pub fn load_file(path: &Path) -> Result<Scenario, Diagnostics> {
    load_ron_file(path, &SCENARIO_DOCUMENT, check)
}

/// Parses and checks scenario text; `file_name` is only used in diagnostics.
pub fn load_str(file_name: &str, text: &str) -> Result<Scenario, Diagnostics> {
    load_ron_str(file_name, text, &SCENARIO_DOCUMENT, check)
}

/// What the loader says about a kind of RON document (a scenario, a deployment file) when
/// the file is empty: its top-level form and where to start from.
#[derive(Clone, Copy, Debug)]
pub struct RonDocument {
    /// The top-level form, e.g. `Scenario(...)`.
    pub form: &'static str,
    /// Where to start from, e.g. a shipped example.
    pub start_from: &'static str,
}

const SCENARIO_DOCUMENT: RonDocument =
    RonDocument { form: "Scenario(...)", start_from: "start from a shipped scenario such as scenarios/careless-vendor.ron" };

/// Reads a RON document of type `T` and runs `check` on it, with the scenario loader's
/// located diagnostics (`file:line:col: error: path: message`) for I/O, encoding, syntax,
/// type and semantic problems alike — for other files instructors write, such as a
/// deployment file.
pub fn load_ron_file<T: DeserializeOwned>(
    path: &Path,
    document: &RonDocument,
    check: impl Fn(&T) -> Vec<Problem>,
) -> Result<T, Diagnostics> {
    let name = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            let src: Arc<str> = Arc::from("");
            let map = SourceMap::new("");
            let d = Diagnostic::new(&name, &map, &src, ByteSpan { start: 0, end: 0 }, String::new(), format!("cannot read the file: {e}"))
                .with_help(Some("check the path and that the file is readable".into()));
            return Err(Diagnostics { items: vec![d] });
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => load_ron_str(&name, &text, document, check),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let prefix = String::from_utf8_lossy(e.as_bytes().get(..valid).unwrap_or(&[])).into_owned();
            let src: Arc<str> = Arc::from(text.as_str());
            let map = SourceMap::new(&text);
            let at = prefix.len();
            let d = Diagnostic::new(
                &name,
                &map,
                &src,
                ByteSpan { start: at, end: at + 1 },
                String::new(),
                "expected UTF-8 text, found an invalid byte".into(),
            )
            .with_help(Some("save the file as UTF-8".into()))
            .with_label("not UTF-8");
            Err(Diagnostics { items: vec![d] })
        }
    }
}

/// [`load_ron_file`] on text; `file_name` is only used in diagnostics.
pub fn load_ron_str<T: DeserializeOwned>(
    file_name: &str,
    text: &str,
    document: &RonDocument,
    check: impl Fn(&T) -> Vec<Problem>,
) -> Result<T, Diagnostics> {
    let source: Arc<str> = Arc::from(text);
    let map = SourceMap::new(text);
    let value = parse(file_name, text, &map, &source, document).map_err(|d| Diagnostics { items: vec![*d] })?;
    let problems = check(&value);
    if problems.is_empty() {
        return Ok(value);
    }
    let mut items: Vec<Diagnostic> = problems.into_iter().map(|p| locate_problem(file_name, &map, &source, p)).collect();
    // Document order (stable: problems at one place keep the checker's order).
    items.sort_by_key(|d| (d.line, d.column));
    Err(Diagnostics { items })
}

/// Turns a semantic problem into a diagnostic pointing at its path's value.
fn locate_problem(file: &str, map: &SourceMap, source: &Arc<str>, p: Problem) -> Diagnostic {
    let located = map.locate(&p.path);
    let label = if located.exact { "here" } else { "somewhere in here" };
    Diagnostic::new(file, map, source, located.span, p.path, p.message).with_help(p.help).with_label(label)
}

/// Renders a serde_path_to_error path in our style (`a.b[2].Variant.c`).
fn path_string(path: &serde_path_to_error::Path) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            PathSegment::Seq { index } => out.push_str(&format!("[{index}]")),
            PathSegment::Map { key } => push_name(&mut out, key),
            PathSegment::Enum { variant } => push_name(&mut out, variant),
            // A key serde has not read yet: the path stops at the enclosing value.
            PathSegment::Unknown => {}
        }
    }
    out
}

fn push_name(out: &mut String, name: &str) {
    if !out.is_empty() {
        out.push('.');
    }
    out.push_str(name);
}

/// Parses with ron, keeping the path and position of the first error.
fn parse<T: DeserializeOwned>(
    file: &str,
    text: &str,
    map: &SourceMap,
    source: &Arc<str>,
    document: &RonDocument,
) -> Result<T, Box<Diagnostic>> {
    if map.is_empty_document() {
        let end = text.len();
        let d = Diagnostic::new(
            file,
            map,
            source,
            ByteSpan { start: end, end },
            String::new(),
            format!("expected `{}`, found an empty file", document.form),
        )
        .with_help(Some(document.start_from.into()))
        .with_label("nothing here");
        return Err(Box::new(d));
    }
    let mut de = match ron::Deserializer::from_str(text) {
        Ok(de) => de,
        Err(e) => return Err(Box::new(ron_diagnostic(file, map, source, String::new(), &e.code, &e.span))),
    };
    let value = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(v) => v,
        Err(e) => {
            let path = path_string(e.path());
            let spanned = de.span_error(e.into_inner());
            return Err(Box::new(ron_diagnostic(file, map, source, path, &spanned.code, &spanned.span)));
        }
    };
    if let Err(e) = de.end() {
        let spanned = de.span_error(e);
        return Err(Box::new(ron_diagnostic(file, map, source, String::new(), &spanned.code, &spanned.span)));
    }
    Ok(value)
}

/// Builds the diagnostic for a ron error at `span` under `path`.
fn ron_diagnostic(file: &str, map: &SourceMap, source: &Arc<str>, path: String, code: &ron::Error, span: &ron::error::Span) -> Diagnostic {
    let start = map.offset(span.start.line, span.start.col);
    let end = map.offset(span.end.line, span.end.col).max(start);
    let mut explained = explain(code);
    if matches!(code, ron::Error::ExpectedIdentifier) && source.get(start..).is_some_and(|r| r.starts_with("r#")) {
        explained = explained.help("`r#` starts a raw identifier: write the name right after it (`r#type`), or remove it");
    }
    let mut at = ByteSpan { start, end };
    if matches!(code, ron::Error::TrailingCharacters) {
        // ron reports where the scenario ends; point at the extra text instead.
        let rest = source.get(start..).unwrap_or("");
        let skip = rest.len() - rest.trim_start().len();
        let len = rest.trim_start().chars().next().map_or(0, char::len_utf8);
        at = ByteSpan { start: start + skip, end: start + skip + len };
    }
    // Type and value errors are about the value at `path`: point at its start when the
    // locator finds it (ron's cursor often sits after the value).
    if explained.at_value {
        let located = map.locate(&path);
        if located.exact && located.span.start <= end {
            at = located.span;
            if explained.add_found {
                let shown: String = source.get(at.start..at.end).unwrap_or("").chars().take(40).collect();
                if !shown.is_empty() {
                    explained.message = format!("{}, found `{shown}`", explained.message);
                }
            }
        }
    }
    Diagnostic::new(file, map, source, at, path, explained.message).with_help(explained.help).with_label(explained.label)
}

/// A ron error in words.
struct Explained {
    message: String,
    help: Option<String>,
    label: String,
    /// Whether the error is about a whole value (point at its start).
    at_value: bool,
    /// Whether to append the text found at the value to the message.
    add_found: bool,
}

impl Explained {
    fn new(message: impl Into<String>, label: impl Into<String>) -> Self {
        Explained { message: message.into(), help: None, label: label.into(), at_value: false, add_found: false }
    }
    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    fn at_value(mut self) -> Self {
        self.at_value = true;
        self
    }
    fn found(mut self) -> Self {
        self.add_found = true;
        self
    }
}

fn list(names: &[&str]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

fn explain(code: &ron::Error) -> Explained {
    use ron::Error as E;
    match code {
        E::InvalidValueForType { expected, found } => {
            Explained::new(format!("expected {expected}, found {found}"), format!("expected {expected}")).at_value()
        }
        E::ExpectedDifferentLength { expected, found } => {
            Explained::new(format!("expected {expected}, found {found} element(s)"), "wrong length").at_value()
        }
        E::Message(m) => Explained::new(m.clone(), "invalid value").at_value(),
        E::NoSuchStructField { expected, found, .. } => {
            let e = Explained::new(format!("unknown field `{found}`"), "unknown field");
            match did_you_mean(found, expected) {
                Some(k) => e.help(format!("did you mean `{k}`?")),
                None if expected.is_empty() => e.help("this struct has no fields"),
                None => e.help(format!("known fields: {}", list(expected))),
            }
        }
        E::NoSuchEnumVariant { expected, found, .. } => {
            let e = Explained::new(format!("unknown variant `{found}`"), "unknown variant");
            match did_you_mean(found, expected) {
                Some(k) => e.help(format!("did you mean `{k}`?")),
                None => e.help(format!("expected one of {}", list(expected))),
            }
        }
        E::MissingStructField { field, .. } => Explained::new(format!("missing field `{field}`"), format!("`{field}` is missing"))
            .help(format!("add `{field}: ...` to this struct")),
        E::DuplicateStructField { field, .. } => {
            Explained::new(format!("field `{field}` is given twice"), "second time").help("remove one of them")
        }
        E::Eof => Explained::new("unexpected end of file", "file ends here")
            .help("a `(`, `[`, `{` or string may be unclosed, or the file is empty"),
        E::ExpectedComma => {
            Explained::new("expected `,` between items", "expected `,`").help("a `,` may be missing here, or a string above is not closed")
        }
        E::ExpectedArray => Explained::new("expected a list `[...]`", "expected `[`"),
        E::ExpectedArrayEnd => {
            Explained::new("expected `]` to close the list", "expected `]`").help("check for a missing `,` before this item")
        }
        E::ExpectedStructLike | E::ExpectedNamedStructLike(_) => Explained::new("expected `(` to open a struct", "expected `(`"),
        E::ExpectedStructLikeEnd | E::ExpectedOptionEnd => {
            Explained::new("expected `)` to close this", "expected `)`").help("check for a missing `,` or an extra value before this point")
        }
        E::ExpectedMapEnd => Explained::new("expected `}` to close the map", "expected `}`"),
        E::ExpectedMapColon => Explained::new("expected `:` after the key", "expected `:`"),
        E::ExpectedString => Explained::new("expected a string", "expected a string").at_value().found(),
        E::ExpectedStringEnd => Explained::new("unterminated string", "string starts here").help("add the closing `\"`"),
        E::ExpectedInteger => Explained::new("expected an integer", "expected an integer").at_value().found(),
        E::ExpectedIdentifier => Explained::new("expected an identifier (a field or variant name)", "expected a name")
            .help("a `)` or `]` may be missing before this point"),
        E::TrailingCharacters => Explained::new("unexpected text after the scenario", "extra text")
            .help("the scenario's closing `)` comes too early, or text follows it"),
        E::UnclosedBlockComment => Explained::new("unclosed block comment", "comment not closed").help("add `*/`"),
        E::UnexpectedChar(c) => Explained::new(format!("unexpected character {c:?}"), "unexpected"),
        E::ExpectedDifferentStructName { expected, found } => {
            Explained::new(format!("expected struct `{expected}`, found `{found}`"), "wrong name")
                .help(format!("write `{expected}(...)` or just `(...)`"))
        }
        E::ExceededRecursionLimit => Explained::new("nesting is too deep", "too deep"),
        other => {
            let text = other.to_string();
            let mut chars = text.chars();
            let message = match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => String::from("invalid RON"),
            };
            Explained::new(message, "here")
        }
    }
}
