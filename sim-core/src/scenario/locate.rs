//! Finding where a field path's value sits in a scenario's RON text.
//!
//! Semantic checks work on the parsed [`Scenario`](super::Scenario), which has no source
//! positions. To point a diagnostic at the right line, [`SourceMap`] re-reads the text
//! with a small, tolerant RON parser (comments, strings with escapes, raw strings,
//! numbers, identifiers, `Name(...)` structs and enum variants, tuples, `[...]`, `{...}`)
//! and resolves a field path such as `cast[2].personas[0].handle` to the byte span of
//! that value. The parser never fails: on text it does not understand it skips ahead,
//! so a partly broken file still yields positions for what precedes the damage.
//!
//! Path style (shared with the loader's diagnostics): struct fields are joined with `.`,
//! sequence elements are written `[i]`, and an enum variant appears as its own segment
//! (`cast[0].script[1].action.OpenShop.persona`, `solution[1].Capture.target.ExplorerAddress.FirstIn`).
//! The empty path is the whole document.

/// A byte range of the source text (`start..end`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteSpan {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// Where a path was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Located {
    /// The span of the value (or, for a fallback, of the nearest located ancestor).
    pub span: ByteSpan,
    /// Whether the whole path was resolved (`false`: the span is an ancestor's).
    pub exact: bool,
}

/// One segment of a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// A struct field, a map key or an enum variant name.
    Name(String),
    /// An element of a sequence or tuple.
    Index(usize),
}

/// Splits a path like `cast[2].personas[0].handle` into segments. Tolerant: a malformed
/// index is kept as a name so that resolution simply stops there.
pub fn parse_path(path: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        let name_end = rest.find('[').unwrap_or(rest.len());
        let (name, tail) = rest.split_at(name_end);
        if !name.is_empty() {
            out.push(Segment::Name(name.to_string()));
        }
        rest = tail;
        while let Some(stripped) = rest.strip_prefix('[') {
            let close = stripped.find(']').unwrap_or(stripped.len());
            let inner = &stripped[..close];
            match inner.parse::<usize>() {
                Ok(i) => out.push(Segment::Index(i)),
                Err(_) => out.push(Segment::Name(inner.to_string())),
            }
            rest = stripped.get(close + 1..).unwrap_or("");
        }
    }
    out
}

/// A parsed value with its span.
#[derive(Clone, Debug)]
struct Node {
    span: ByteSpan,
    value: Value,
}

#[derive(Clone, Debug)]
enum Value {
    /// A string, number, char or other literal.
    Literal,
    /// A bare identifier: a unit variant, `true`, `None`.
    Ident(String),
    /// `Name(key: value, ...)` or `(key: value, ...)`.
    Struct { name: Option<String>, fields: Vec<(String, Node)> },
    /// `Name(a, b)`, `(a, b)` or `Name`-less unit `()`.
    Tuple { name: Option<String>, items: Vec<Node> },
    /// `[a, b]`.
    Seq(Vec<Node>),
    /// `{k: v}`: keys as written (strings unquoted).
    Map(Vec<(String, Node)>),
}

/// Deepest nesting the locator follows; deeper text is skipped.
const MAX_DEPTH: usize = 128;

/// The source text with its line table and tolerant parse tree.
#[derive(Clone, Debug)]
pub struct SourceMap {
    line_starts: Vec<usize>,
    text_len: usize,
    chars_per_line: Vec<Vec<usize>>,
    root: Option<Node>,
}

impl SourceMap {
    /// Reads `text` (never fails).
    pub fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i + 1);
            }
        }
        let chars_per_line = Vec::new();
        let mut p = Parser { src: text, pos: 0 };
        p.skip_trivia();
        p.skip_attributes();
        let root = p.value(0);
        SourceMap { line_starts, text_len: text.len(), chars_per_line, root }.with_char_tables(text)
    }

    fn with_char_tables(mut self, text: &str) -> Self {
        // For each line, the byte offsets of its characters (to turn bytes into columns).
        let mut tables = Vec::with_capacity(self.line_starts.len());
        for (i, &start) in self.line_starts.iter().enumerate() {
            let end = self.line_starts.get(i + 1).copied().unwrap_or(text.len());
            let line = text.get(start..end).unwrap_or("");
            tables.push(line.char_indices().map(|(o, _)| start + o).collect());
        }
        self.chars_per_line = tables;
        self
    }

    /// The 1-based line and column (in characters) of a byte offset; offsets past the
    /// end map to the end of the text.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text_len);
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let col = self.chars_per_line.get(line).map(|t| t.partition_point(|&o| o < offset)).unwrap_or(0);
        (line + 1, col + 1)
    }

    /// The byte offset of a 1-based line and column (in characters), clamped to the text.
    pub fn offset(&self, line: usize, col: usize) -> usize {
        let li = line.saturating_sub(1);
        let Some(&start) = self.line_starts.get(li) else {
            return self.text_len;
        };
        let ci = col.saturating_sub(1);
        let end = self.line_starts.get(li + 1).copied().unwrap_or(self.text_len);
        self.chars_per_line.get(li).and_then(|t| t.get(ci).copied()).unwrap_or_else(|| (start + ci).min(end)).min(self.text_len)
    }

    /// Whether the text holds no value at all (only whitespace and comments).
    pub fn is_empty_document(&self) -> bool {
        self.root.is_none()
    }

    /// Where the value at `path` starts and ends. Falls back to the nearest ancestor that
    /// could be located (and to the start of the text when nothing could be).
    pub fn locate(&self, path: &str) -> Located {
        let Some(root) = &self.root else {
            return Located { span: ByteSpan { start: 0, end: 0 }, exact: path.is_empty() };
        };
        let mut node = root;
        let mut exact = true;
        let segments = parse_path(path);
        for seg in &segments {
            match step(node, seg, 0) {
                Some(next) => node = next,
                None => {
                    exact = false;
                    break;
                }
            }
        }
        // A path ending on a newtype variant (`action.Register`) means its payload.
        if exact
            && let Some(Segment::Name(last)) = segments.last()
            && let Value::Tuple { name: Some(n), items } = &node.value
            && n == last
            && let [only] = items.as_slice()
        {
            return Located { span: only.span, exact };
        }
        Located { span: node.span, exact }
    }
}

/// Resolves one path segment from `node`.
fn step<'a>(node: &'a Node, seg: &Segment, depth: usize) -> Option<&'a Node> {
    if depth > MAX_DEPTH {
        return None;
    }
    match (seg, &node.value) {
        (Segment::Name(n), Value::Ident(id)) if id == n => Some(node),
        (Segment::Name(n), Value::Struct { name: Some(v), .. } | Value::Tuple { name: Some(v), .. }) if v == n => Some(node),
        (Segment::Name(n), Value::Struct { fields, .. }) => fields.iter().find(|(k, _)| k == n).map(|(_, v)| v),
        (Segment::Name(n), Value::Map(entries)) => entries.iter().find(|(k, _)| k == n).map(|(_, v)| v),
        (Segment::Index(i), Value::Seq(items)) => items.get(*i),
        (Segment::Index(i), Value::Tuple { items, .. }) => match items.as_slice() {
            // `Some([...])` or a newtype variant around a sequence.
            [only] if matches!(only.value, Value::Seq(_)) => step(only, seg, depth + 1),
            _ => items.get(*i),
        },
        // `Some(x)`, a newtype variant or `Name((...))`: look inside the single payload.
        (Segment::Name(_), Value::Tuple { items, .. }) => match items.as_slice() {
            [only] => step(only, seg, depth + 1),
            _ => None,
        },
        _ => None,
    }
}

/// The tolerant recursive-descent reader.
struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<u8> {
        self.src.as_bytes().get(self.pos + n).copied()
    }

    /// Skips whitespace and comments (block comments nest, as in RON).
    fn skip_trivia(&mut self) {
        loop {
            match (self.peek(), self.peek_at(1)) {
                (Some(c), _) if c.is_ascii_whitespace() => self.pos += 1,
                (Some(b'/'), Some(b'/')) => {
                    while let Some(c) = self.peek() {
                        self.pos += 1;
                        if c == b'\n' {
                            break;
                        }
                    }
                }
                (Some(b'/'), Some(b'*')) => {
                    self.pos += 2;
                    let mut level = 1usize;
                    while level > 0 {
                        match (self.peek(), self.peek_at(1)) {
                            (None, _) => break,
                            (Some(b'*'), Some(b'/')) => {
                                level -= 1;
                                self.pos += 2;
                            }
                            (Some(b'/'), Some(b'*')) => {
                                level += 1;
                                self.pos += 2;
                            }
                            _ => self.pos += 1,
                        }
                    }
                }
                _ => return,
            }
        }
    }

    /// Skips `#![enable(...)]` attributes.
    fn skip_attributes(&mut self) {
        while self.peek() == Some(b'#') {
            while let Some(c) = self.peek() {
                self.pos += 1;
                if c == b']' {
                    break;
                }
            }
            self.skip_trivia();
        }
    }

    fn is_ident_start(c: u8) -> bool {
        c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
    }

    fn is_ident_char(c: u8) -> bool {
        c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
    }

    /// Reads an identifier (with optional `r#`), or `None` if there is none here.
    fn ident(&mut self) -> Option<String> {
        let start = self.pos;
        if self.peek() == Some(b'r') && self.peek_at(1) == Some(b'#') {
            self.pos += 2;
        }
        match self.peek() {
            Some(c) if Self::is_ident_start(c) => {}
            _ => {
                self.pos = start;
                return None;
            }
        }
        let name_start = self.pos;
        while let Some(c) = self.peek() {
            if Self::is_ident_char(c) {
                self.pos += 1;
            } else {
                break;
            }
        }
        Some(self.text(name_start, self.pos))
    }

    fn text(&self, a: usize, b: usize) -> String {
        self.src.get(a..b).unwrap_or("").to_string()
    }

    /// Reads a quoted string starting at `"` (escapes skipped); returns its raw content.
    fn string(&mut self) -> String {
        self.pos += 1;
        let start = self.pos;
        while let Some(c) = self.peek() {
            match c {
                b'\\' => self.pos += 2,
                b'"' => {
                    let s = self.text(start, self.pos);
                    self.pos += 1;
                    return s;
                }
                _ => self.pos += 1,
            }
        }
        self.pos = self.pos.min(self.src.len());
        self.text(start, self.pos)
    }

    /// Whether a raw string (`r"`, `r#"`, `r##"`...) starts here, not a raw identifier.
    fn at_raw_string(&self) -> bool {
        let rest = self.src.as_bytes().get(self.pos + 1..).unwrap_or(&[]);
        let hashes = rest.iter().take_while(|&&c| c == b'#').count();
        rest.get(hashes) == Some(&b'"')
    }

    /// Reads a raw string `r#"..."#` starting at `r`.
    fn raw_string(&mut self) -> String {
        self.pos += 1;
        let mut hashes = 0;
        while self.peek() == Some(b'#') {
            hashes += 1;
            self.pos += 1;
        }
        if self.peek() != Some(b'"') {
            return String::new();
        }
        self.pos += 1;
        let start = self.pos;
        let closing: String = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
        match self.src.get(self.pos..).and_then(|rest| rest.find(&closing)) {
            Some(i) => {
                let s = self.text(start, self.pos + i);
                self.pos += i + closing.len();
                s
            }
            None => {
                self.pos = self.src.len();
                self.text(start, self.pos)
            }
        }
    }

    /// Reads a char literal `'x'` (or a byte literal after `b`).
    fn char_lit(&mut self) {
        self.pos += 1;
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                b'\\' => self.pos += 1,
                b'\'' | b'\n' => return,
                _ => {}
            }
        }
        self.pos = self.pos.min(self.src.len());
    }

    fn number(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'+' | b'-') {
                // A sign only continues a number right after an exponent marker.
                if matches!(c, b'+' | b'-') && self.pos > 0 {
                    let prev = self.src.as_bytes().get(self.pos - 1).copied();
                    if !matches!(prev, Some(b'e' | b'E')) {
                        break;
                    }
                }
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    /// Reads one value; `None` at the end of input or on a closing bracket.
    fn value(&mut self, depth: usize) -> Option<Node> {
        self.skip_trivia();
        let start = self.pos;
        let c = self.peek()?;
        let value = match c {
            b'"' => {
                self.string();
                Value::Literal
            }
            b'r' if self.at_raw_string() => {
                self.raw_string();
                Value::Literal
            }
            b'b' if self.peek_at(1) == Some(b'"') => {
                self.pos += 1;
                self.string();
                Value::Literal
            }
            b'b' if self.peek_at(1) == Some(b'\'') => {
                self.pos += 1;
                self.char_lit();
                Value::Literal
            }
            b'\'' => {
                self.char_lit();
                Value::Literal
            }
            b'0'..=b'9' | b'+' | b'-' | b'.' => {
                self.pos += 1;
                self.number();
                Value::Literal
            }
            b'(' => self.parens(None, depth),
            b'[' => {
                self.pos += 1;
                Value::Seq(self.items(b']', depth))
            }
            b'{' => {
                self.pos += 1;
                Value::Map(self.map(depth))
            }
            // `r#` not followed by a name (e.g. `r#  id`) is no identifier: it must not
            // become an empty one that consumes nothing, or callers loop forever.
            c if Self::is_ident_start(c) => match self.ident() {
                Some(name) => {
                    let after_name = self.pos;
                    self.skip_trivia();
                    if self.peek() == Some(b'(') {
                        self.parens(Some(name), depth)
                    } else {
                        self.pos = after_name;
                        Value::Ident(name)
                    }
                }
                None => {
                    self.skip_char();
                    Value::Literal
                }
            },
            b')' | b']' | b'}' => return None,
            _ => {
                // Not a value: skip one character so that callers make progress.
                self.skip_char();
                Value::Literal
            }
        };
        Some(Node { span: ByteSpan { start, end: self.pos.min(self.src.len()) }, value })
    }

    /// Skips one character (of any width).
    fn skip_char(&mut self) {
        self.pos += self.src.get(self.pos..).and_then(|r| r.chars().next()).map_or(1, char::len_utf8);
    }

    /// Reads `( ... )` after an optional name: struct fields or tuple items.
    fn parens(&mut self, name: Option<String>, depth: usize) -> Value {
        self.pos += 1;
        if depth >= MAX_DEPTH {
            self.skip_balanced(b')');
            return Value::Tuple { name, items: Vec::new() };
        }
        self.skip_trivia();
        let save = self.pos;
        let is_struct = self.ident().is_some() && {
            self.skip_trivia();
            self.peek() == Some(b':')
        };
        self.pos = save;
        if is_struct { Value::Struct { name, fields: self.fields(depth) } } else { Value::Tuple { name, items: self.items(b')', depth) } }
    }

    /// Skips to the matching closer (used beyond the depth limit).
    fn skip_balanced(&mut self, close: u8) {
        let mut level = 1usize;
        while let Some(c) = self.peek() {
            match c {
                b'"' => {
                    self.string();
                    continue;
                }
                b'(' | b'[' | b'{' => level += 1,
                b')' | b']' | b'}' => {
                    level -= 1;
                    if level == 0 {
                        if c == close {
                            self.pos += 1;
                        }
                        return;
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
    }

    /// Reads `key: value, ...` up to `)`.
    fn fields(&mut self, depth: usize) -> Vec<(String, Node)> {
        let mut fields = Vec::new();
        loop {
            self.skip_trivia();
            match self.peek() {
                None => return fields,
                Some(b')') => {
                    self.pos += 1;
                    return fields;
                }
                Some(b',') => {
                    self.pos += 1;
                    continue;
                }
                Some(b']' | b'}') => return fields,
                _ => {}
            }
            let before = self.pos;
            let key = self.ident();
            self.skip_trivia();
            if key.is_some() && self.peek() == Some(b':') {
                self.pos += 1;
            }
            if let (Some(v), Some(k)) = (self.value(depth + 1), key) {
                fields.push((k, v));
            }
            // Every round consumes text, whatever it holds: the loop ends with the input.
            if self.pos == before {
                self.skip_char();
            }
        }
    }

    /// Reads `value, ...` up to `close`.
    fn items(&mut self, close: u8, depth: usize) -> Vec<Node> {
        let mut items = Vec::new();
        loop {
            self.skip_trivia();
            match self.peek() {
                None => return items,
                Some(c) if c == close => {
                    self.pos += 1;
                    return items;
                }
                Some(b',') => {
                    self.pos += 1;
                    continue;
                }
                Some(b')' | b']' | b'}') => return items,
                _ => {}
            }
            if depth >= MAX_DEPTH {
                self.skip_balanced(close);
                return items;
            }
            let before = self.pos;
            match self.value(depth + 1) {
                // A value that consumed nothing is no item (and would repeat forever).
                Some(_) if self.pos == before => self.skip_char(),
                Some(v) => items.push(v),
                None => return items,
            }
        }
    }

    /// Reads `key: value, ...` up to `}`.
    fn map(&mut self, depth: usize) -> Vec<(String, Node)> {
        let mut entries = Vec::new();
        loop {
            self.skip_trivia();
            match self.peek() {
                None => return entries,
                Some(b'}') => {
                    self.pos += 1;
                    return entries;
                }
                Some(b',') => {
                    self.pos += 1;
                    continue;
                }
                Some(b')' | b']') => return entries,
                _ => {}
            }
            let key_start = self.pos;
            let key = match self.peek() {
                Some(b'"') => self.string(),
                _ => {
                    let _ = self.value(depth + 1);
                    self.text(key_start, self.pos)
                }
            };
            if self.pos == key_start {
                return entries;
            }
            self.skip_trivia();
            if self.peek() == Some(b':') {
                self.pos += 1;
            }
            if let Some(v) = self.value(depth + 1) {
                entries.push((key, v));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r##"// a comment with ( and "
Scenario(
    /* block /* nested */ ) */
    format: 1,
    name: r#"raw ) " string"#,
    cast: [
        (id: "a", personas: [(id: "p", handle: "h\"x")], script: [(at: "0h", action: Register("p"))]),
        (id: "b", script: [(at: "1h", action: OpenShop(persona: "q", bio: 'c'))]),
    ],
    sites: [(id: "s", kind: Market((operator: Some("op"), commission_bps: 5)))],
    solution: [Capture(label: "x", target: ExplorerAddress(FirstIn("y")))],
    map: {"k": [1, 2.5e-3, -4]},
)"##;

    fn at(map: &SourceMap, path: &str) -> (usize, usize, bool) {
        let l = map.locate(path);
        let (line, col) = map.line_col(l.span.start);
        (line, col, l.exact)
    }

    #[test]
    fn paths_resolve_to_value_starts() {
        let m = SourceMap::new(TEXT);
        assert_eq!(at(&m, "format"), (4, 13, true));
        assert_eq!(at(&m, "cast[0].personas[0].handle"), (7, 48, true));
        assert_eq!(at(&m, "cast[0].script[0].action.Register"), (7, 95, true));
        assert_eq!(at(&m, "cast[1].script[0].action.OpenShop.persona"), (8, 65, true));
        assert_eq!(at(&m, "sites[0].kind.Market.operator"), (10, 47, true));
        assert_eq!(at(&m, "solution[0].Capture.target.ExplorerAddress.FirstIn"), (11, 68, true));
        assert_eq!(at(&m, "map.k[2]"), (12, 28, true));
        assert_eq!(at(&m, ""), (2, 1, true));
    }

    #[test]
    fn unknown_paths_fall_back_to_an_ancestor() {
        let m = SourceMap::new(TEXT);
        assert_eq!(at(&m, "cast[1].script[0].jitter"), (8, 28, false));
        assert_eq!(at(&m, "cast[7].id"), (6, 11, false));
    }

    #[test]
    fn garbage_never_panics() {
        for text in ["", "(", "[[[", "\"unterminated", "r#\"x", "/* open", "a(b:", "é(ü: 1)", "'", "b'", "{:}", ")))"] {
            let m = SourceMap::new(text);
            let _ = m.locate("a.b[3].c");
            let _ = m.line_col(text.len() + 5);
        }
        let deep = "(".repeat(10_000);
        let _ = SourceMap::new(&deep).locate("x[0]");
        // `r#` without a name after it once made no progress: `items` grew without bound
        // and `fields` spun forever (fuzz crashes oom-add650e1, timeout-609df5b7).
        for text in ["[r#  a, r#]", "(a: 1, r##  b: 2)", "(x: [r#, r# ]), r#", "{r#: r#}"] {
            let m = SourceMap::new(text);
            let _ = m.locate("a[0].b");
        }
        let many = format!("[{}]", "r# ".repeat(5_000));
        let m = SourceMap::new(&many);
        assert!(matches!(&m.root, Some(Node { value: Value::Seq(items), .. }) if items.len() <= many.len()));
        // The reader carries on past the stray `r#`: later fields are still found.
        let m = SourceMap::new("(a: 1, r##  b: 2, c: [r#, 3])");
        assert_eq!(at(&m, "c"), (1, 22, true));
    }

    /// Fuzz crash `oom-b785f5…`: `r#` followed by whitespace is no identifier; the reader
    /// once stayed on it, pushing empty nodes until memory ran out. Every spot where a
    /// value, a field or an item can start must move on past it.
    #[test]
    fn a_raw_identifier_prefix_without_a_name_is_skipped() {
        for text in
            ["( r#  (id: 1))", "[r# , r#]", "(a: r# )", "(r#: 1, b: 2)", "{r# : r#}", "r#", "Name(r#\n)", "(\n r#       (id: \"x\"]),\n)"]
        {
            let m = SourceMap::new(text);
            let _ = m.locate("a.b[3].c");
        }
        let m = SourceMap::new("(a: [r# , 1], b: 2)");
        assert_eq!(at(&m, "b"), (1, 18, true));
        let deep = format!("{}{}", "(r# ".repeat(10_000), "r# ".repeat(10_000));
        let _ = SourceMap::new(&deep).locate("x[0]");
    }

    #[test]
    fn path_segments() {
        assert_eq!(
            parse_path("cast[2].personas[0].handle"),
            vec![
                Segment::Name("cast".into()),
                Segment::Index(2),
                Segment::Name("personas".into()),
                Segment::Index(0),
                Segment::Name("handle".into())
            ]
        );
        assert!(parse_path("").is_empty());
    }
}
