//! A small JSON reader into a borrowed tree.
//!
//! Why not `serde_json::Value`: the validator needs byte spans (to point the CLI at a line and
//! column), exact number text (to report `2^53 + 1` instead of rounding it), every duplicate key,
//! a depth cap that turns 5,000-deep input into an issue instead of a stack overflow, and the
//! markers the JS glue writes for values JSON cannot carry (`@nan`, `@bigint`, ...). Borrowing
//! strings that need no unescaping also keeps the wasm hot path free of allocations per string.

use std::borrow::Cow;

/// Values deeper than this are replaced by [`Foreign::Depth`] instead of being read.
pub const MAX_DEPTH: usize = 64;

/// A JS value that JSON text cannot carry, written by the JS glue as a bare `@name` token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Foreign {
    Undefined,
    NaN,
    Infinity,
    NegInfinity,
    BigInt,
    Function,
    Symbol,
    Cycle,
    Throw,
    /// Nesting beyond [`MAX_DEPTH`] (from the parser or the JS glue).
    Depth,
}

impl Foreign {
    fn from_token(token: &str) -> Option<Self> {
        Some(match token {
            "undefined" => Self::Undefined,
            "nan" => Self::NaN,
            "infinity" => Self::Infinity,
            "-infinity" => Self::NegInfinity,
            "bigint" => Self::BigInt,
            "function" => Self::Function,
            "symbol" => Self::Symbol,
            "cycle" => Self::Cycle,
            "throw" => Self::Throw,
            "depth" => Self::Depth,
            _ => return None,
        })
    }

    /// How the value is named in messages ("got NaN").
    pub fn describe(self) -> &'static str {
        match self {
            Self::Undefined => "undefined",
            Self::NaN => "NaN",
            Self::Infinity => "Infinity",
            Self::NegInfinity => "-Infinity",
            Self::BigInt => "bigint",
            Self::Function => "function",
            Self::Symbol => "symbol",
            Self::Cycle => "cyclic reference",
            Self::Throw => "property whose getter threw",
            Self::Depth => "too deeply nested value",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Json<'a> {
    Null,
    Bool(bool),
    /// The number exactly as written (valid JSON number grammar).
    Number(Cow<'a, str>),
    String(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    Object(Vec<Member<'a>>),
    Foreign(Foreign),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node<'a> {
    pub value: Json<'a>,
    /// Byte offsets of the value in the source text (`0..0` when built from a `serde_json::Value`).
    pub start: u32,
    pub end: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Member<'a> {
    pub key: Cow<'a, str>,
    pub key_start: u32,
    pub value: Node<'a>,
}

impl<'a> Json<'a> {
    /// The JSON type name used in messages and `params.actual`.
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "boolean",
            Json::Number(_) => "number",
            Json::String(_) => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
            Json::Foreign(f) => f.describe(),
        }
    }

    pub fn as_object(&self) -> Option<&[Member<'a>]> {
        match self {
            Json::Object(members) => Some(members),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }
}

impl<'a> Node<'a> {
    pub fn detached(value: Json<'a>) -> Self {
        Node {
            value,
            start: 0,
            end: 0,
        }
    }

    /// The member `key` of an object node (the last one when a key repeats, as JSON.parse does).
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        self.value
            .as_object()?
            .iter()
            .rev()
            .find(|m| m.key == key)
            .map(|m| &m.value)
    }
}

/// Why text could not be read, with the place in the text where reading stopped (1-based line
/// and column, in characters).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} at line {line}, column {column}", kind.reason())]
pub struct SyntaxError {
    pub kind: SyntaxErrorKind,
    pub offset: usize,
    pub line: usize,
    pub column: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyntaxErrorKind {
    /// The text is not JSON (or not JS-mode JSON); why, in words.
    Invalid(&'static str),
    /// Nesting deeper than [`MAX_DEPTH`]: the JSON pointer of the first container past it.
    TooDeep { pointer: String },
}

impl SyntaxErrorKind {
    pub fn reason(&self) -> &'static str {
        match self {
            SyntaxErrorKind::Invalid(reason) => reason,
            SyntaxErrorKind::TooDeep { .. } => "nesting too deep",
        }
    }
}

impl SyntaxError {
    /// The pointer of the first too-deep container, when that is why reading stopped.
    pub fn too_deep(&self) -> Option<&str> {
        match &self.kind {
            SyntaxErrorKind::TooDeep { pointer } => Some(pointer),
            SyntaxErrorKind::Invalid(_) => None,
        }
    }
}

/// Parse strict JSON text (the user's own text).
pub fn parse(text: &str) -> Result<Node<'_>, SyntaxError> {
    Parser::new(text, false).parse_document()
}

/// Parse text written by the JS glue: JSON plus the `@name` markers of [`Foreign`].
#[cfg(any(target_arch = "wasm32", test))]
pub fn parse_js(text: &str) -> Result<Node<'_>, SyntaxError> {
    Parser::new(text, true).parse_document()
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    js_mode: bool,
}

/// An error while reading: reason, offset, and for too-deep nesting the path tokens collected
/// (innermost first) as the error travels out.
struct ReadError {
    reason: &'static str,
    offset: usize,
    deep_path: Option<Vec<String>>,
}

impl From<(&'static str, usize)> for ReadError {
    fn from((reason, offset): (&'static str, usize)) -> Self {
        ReadError {
            reason,
            offset,
            deep_path: None,
        }
    }
}

type Parsed<T> = Result<T, ReadError>;

fn too_deep_error(offset: usize) -> ReadError {
    ReadError {
        reason: "nesting too deep",
        offset,
        deep_path: Some(Vec::new()),
    }
}

fn within<T>(result: Parsed<T>, token: impl FnOnce() -> String) -> Parsed<T> {
    result.map_err(|mut e| {
        if let Some(path) = &mut e.deep_path {
            path.push(token());
        }
        e
    })
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, js_mode: bool) -> Self {
        Parser {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            js_mode,
        }
    }

    fn parse_document(mut self) -> Result<Node<'a>, SyntaxError> {
        let result = (|| {
            // A UTF-8 byte order mark is tolerated, as most JSON readers do.
            if self.text.starts_with('\u{feff}') {
                self.pos = 3;
            }
            self.skip_ws();
            let node = self.value(0)?;
            self.skip_ws();
            if self.pos < self.bytes.len() {
                return Err(ReadError::from((
                    "unexpected text after the JSON value",
                    self.pos,
                )));
            }
            Ok(node)
        })();
        result.map_err(|e| {
            let (line, column) = line_column(self.text, e.offset);
            let kind = match e.deep_path {
                Some(tokens) => {
                    let mut pointer = String::new();
                    for token in tokens.iter().rev() {
                        pointer.push('/');
                        escape_token(token, &mut pointer);
                    }
                    SyntaxErrorKind::TooDeep { pointer }
                }
                None => SyntaxErrorKind::Invalid(e.reason),
            };
            SyntaxError {
                kind,
                offset: e.offset,
                line,
                column,
            }
        })
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Parsed<Node<'a>> {
        let start = self.pos;
        let value = match self.bytes.get(self.pos) {
            None => return Err(("unexpected end of input; expected a value", self.pos).into()),
            Some(b'{' | b'[') if depth >= MAX_DEPTH => return Err(too_deep_error(self.pos)),
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => Json::String(self.string()?),
            Some(b't') => self.literal("true", Json::Bool(true))?,
            Some(b'f') => self.literal("false", Json::Bool(false))?,
            Some(b'n') => self.literal("null", Json::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(b'@') if self.js_mode => self.marker()?,
            Some(_) => return Err(("unexpected character; expected a value", self.pos).into()),
        };
        Ok(Node {
            value,
            start: start as u32,
            end: self.pos as u32,
        })
    }

    fn literal(&mut self, word: &'static str, value: Json<'a>) -> Parsed<Json<'a>> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(("invalid literal; expected true, false or null", self.pos).into())
        }
    }

    fn marker(&mut self) -> Parsed<Json<'a>> {
        let start = self.pos + 1;
        let mut end = start;
        while let Some(b'a'..=b'z' | b'-') = self.bytes.get(end) {
            end += 1;
        }
        let foreign =
            Foreign::from_token(&self.text[start..end]).ok_or(("unknown marker", self.pos))?;
        if foreign == Foreign::Depth {
            return Err(too_deep_error(self.pos));
        }
        self.pos = end;
        Ok(Json::Foreign(foreign))
    }

    fn object(&mut self, depth: usize) -> Parsed<Json<'a>> {
        self.pos += 1;
        let mut members = Vec::with_capacity(12);
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Json::Object(members));
        }
        loop {
            self.skip_ws();
            if self.bytes.get(self.pos) != Some(&b'"') {
                return Err(("expected a string key in double quotes", self.pos).into());
            }
            let key_start = self.pos as u32;
            let key = self.string()?;
            self.skip_ws();
            if self.bytes.get(self.pos) != Some(&b':') {
                return Err(("expected ':' after the key", self.pos).into());
            }
            self.pos += 1;
            self.skip_ws();
            let value = within(self.value(depth + 1), || key.to_string())?;
            members.push(Member {
                key,
                key_start,
                value,
            });
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Json::Object(members));
                }
                _ => return Err(("expected ',' or '}' after an object member", self.pos).into()),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Parsed<Json<'a>> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(Json::Array(items));
        }
        loop {
            self.skip_ws();
            let index = items.len();
            items.push(within(self.value(depth + 1), || index.to_string())?);
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(("expected ',' or ']' after an array element", self.pos).into()),
            }
        }
    }

    fn number(&mut self) -> Parsed<Json<'a>> {
        let start = self.pos;
        let b = self.bytes;
        let mut p = self.pos;
        if b.get(p) == Some(&b'-') {
            p += 1;
        }
        match b.get(p) {
            Some(b'0') => p += 1,
            Some(b'1'..=b'9') => {
                while let Some(b'0'..=b'9') = b.get(p) {
                    p += 1;
                }
            }
            _ => return Err(("invalid number", p).into()),
        }
        if b.get(p) == Some(&b'.') {
            p += 1;
            if !matches!(b.get(p), Some(b'0'..=b'9')) {
                return Err(("invalid number: expected a digit after '.'", p).into());
            }
            while let Some(b'0'..=b'9') = b.get(p) {
                p += 1;
            }
        }
        if let Some(b'e' | b'E') = b.get(p) {
            p += 1;
            if let Some(b'+' | b'-') = b.get(p) {
                p += 1;
            }
            if !matches!(b.get(p), Some(b'0'..=b'9')) {
                return Err(("invalid number: expected a digit in the exponent", p).into());
            }
            while let Some(b'0'..=b'9') = b.get(p) {
                p += 1;
            }
        }
        self.pos = p;
        Ok(Json::Number(Cow::Borrowed(&self.text[start..p])))
    }

    fn string(&mut self) -> Parsed<Cow<'a, str>> {
        self.pos += 1; // opening quote
        let start = self.pos;
        // Fast path: no escapes, borrow the text as it is.
        self.pos = scan_string(self.bytes, self.pos);
        match self.bytes.get(self.pos) {
            None => return Err(("unterminated string", start - 1).into()),
            Some(b'"') => {
                let s = &self.text[start..self.pos];
                self.pos += 1;
                return Ok(Cow::Borrowed(s));
            }
            Some(b'\\') => {}
            Some(_) => return Err(("control character in a string", self.pos).into()),
        }
        let mut out = String::with_capacity(self.pos - start + 16);
        out.push_str(&self.text[start..self.pos]);
        loop {
            let run = self.pos;
            self.pos = scan_string(self.bytes, self.pos);
            out.push_str(&self.text[run..self.pos]);
            match self.bytes.get(self.pos) {
                None => return Err(("unterminated string", start - 1).into()),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let escaped = match self.bytes.get(self.pos) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let c = self.unicode_escape()?;
                            out.push(c);
                            continue;
                        }
                        _ => return Err(("invalid escape in a string", self.pos).into()),
                    };
                    self.pos += 1;
                    out.push(escaped);
                }
                Some(_) => return Err(("control character in a string", self.pos).into()),
            }
        }
    }

    fn hex4(&mut self) -> Parsed<u32> {
        let digits = self
            .bytes
            .get(self.pos..self.pos + 4)
            .ok_or(ReadError::from(("invalid \\u escape", self.pos)))?;
        let mut value = 0u32;
        for &d in digits {
            let v = (d as char)
                .to_digit(16)
                .ok_or(ReadError::from(("invalid \\u escape", self.pos)))?;
            value = value * 16 + v;
        }
        self.pos += 4;
        Ok(value)
    }

    /// After `\u`: one code point; lone surrogates become U+FFFD (JS strings may hold them).
    fn unicode_escape(&mut self) -> Parsed<char> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first) && self.bytes[self.pos..].starts_with(b"\\u") {
            let save = self.pos;
            self.pos += 2;
            let second = self.hex4()?;
            if (0xDC00..0xE000).contains(&second) {
                let c = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                return Ok(char::from_u32(c).unwrap_or('\u{fffd}'));
            }
            self.pos = save;
        }
        Ok(char::from_u32(first).unwrap_or('\u{fffd}'))
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Escape one reference token of a JSON pointer (RFC 6901).
pub fn escape_token(token: &str, out: &mut String) {
    if !token.contains(['~', '/']) {
        out.push_str(token);
        return;
    }
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

/// A pointer's reference token as the key it names (`~1` is `/`, `~0` is `~`). By hand, not
/// with `str::replace`, whose substring search was 3 KB of the wasm.
fn unescape_token(raw: &str) -> Cow<'_, str> {
    if !raw.as_bytes().contains(&b'~') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '~' {
            out.push(c);
            continue;
        }
        let rest = chars.as_str();
        match rest.as_bytes().first() {
            Some(b'1') => out.push('/'),
            Some(b'0') => out.push('~'),
            _ => {
                out.push('~');
                continue;
            }
        }
        chars = rest[1..].chars();
    }
    Cow::Owned(out)
}

/// Find the node a JSON pointer names.
pub fn resolve<'n, 'a>(root: &'n Node<'a>, pointer: &str) -> Option<&'n Node<'a>> {
    if pointer.is_empty() {
        return Some(root);
    }
    let mut node = root;
    for raw in pointer.strip_prefix('/')?.split('/') {
        let token = unescape_token(raw);
        node = match &node.value {
            Json::Object(_) => node.get(&token)?,
            Json::Array(items) => items.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

/// The 1-based line and column where the value at `pointer` starts in `text`; for a pointer to a
/// missing member, the place of its parent object.
pub fn locate(text: &str, pointer: &str) -> Option<(usize, usize)> {
    let root = match parse(text) {
        Ok(root) => root,
        // Reading stopped at a too-deep value: its place is where reading stopped.
        Err(e) if e.too_deep() == Some(pointer) => return Some((e.line, e.column)),
        Err(_) => return None,
    };
    let mut pointer = pointer;
    loop {
        if let Some(node) = resolve(&root, pointer) {
            return Some(line_column(text, node.start as usize));
        }
        pointer = &pointer[..pointer.rfind('/')?];
    }
}

/// Convert a `serde_json::Value` (the native API's input) into the tree the validator walks.
/// Nesting past [`MAX_DEPTH`] is an error carrying the pointer, as with text.
pub fn from_value(value: &serde_json::Value) -> Result<Node<'_>, String> {
    convert(value, 0).map_err(|tokens| {
        let mut pointer = String::new();
        for token in tokens.iter().rev() {
            pointer.push('/');
            escape_token(token, &mut pointer);
        }
        pointer
    })
}

fn convert(value: &serde_json::Value, depth: usize) -> Result<Node<'_>, Vec<String>> {
    use serde_json::Value as V;
    if depth >= MAX_DEPTH && matches!(value, V::Array(_) | V::Object(_)) {
        return Err(Vec::new());
    }
    let push = |token: String| {
        move |mut tokens: Vec<String>| {
            tokens.push(token);
            tokens
        }
    };
    Ok(Node::detached(match value {
        V::Null => Json::Null,
        V::Bool(b) => Json::Bool(*b),
        V::Number(n) => Json::Number(Cow::Owned(n.to_string())),
        V::String(s) => Json::String(Cow::Borrowed(s)),
        V::Array(items) => Json::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| convert(v, depth + 1).map_err(push(i.to_string())))
                .collect::<Result<_, _>>()?,
        ),
        V::Object(map) => Json::Object(
            map.iter()
                .map(|(k, v)| {
                    let value = convert(v, depth + 1).map_err(push(k.clone()))?;
                    Ok::<_, Vec<String>>(Member {
                        key: Cow::Borrowed(k),
                        key_start: 0,
                        value,
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
    }))
}

impl Json<'_> {
    /// A copy that borrows nothing from the source text.
    pub fn into_owned(self) -> Json<'static> {
        match self {
            Json::Null => Json::Null,
            Json::Bool(b) => Json::Bool(b),
            Json::Number(n) => Json::Number(Cow::Owned(n.into_owned())),
            Json::String(s) => Json::String(Cow::Owned(s.into_owned())),
            Json::Array(items) => Json::Array(
                items
                    .into_iter()
                    .map(|n| Node {
                        value: n.value.into_owned(),
                        start: n.start,
                        end: n.end,
                    })
                    .collect(),
            ),
            Json::Object(members) => Json::Object(
                members
                    .into_iter()
                    .map(|m| Member {
                        key: Cow::Owned(m.key.into_owned()),
                        key_start: m.key_start,
                        value: Node {
                            value: m.value.value.into_owned(),
                            start: m.value.start,
                            end: m.value.end,
                        },
                    })
                    .collect(),
            ),
            Json::Foreign(f) => Json::Foreign(f),
        }
    }
}

impl serde::Serialize for Json<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Json::Null | Json::Foreign(_) => serializer.serialize_unit(),
            Json::Bool(b) => serializer.serialize_bool(*b),
            Json::Number(text) => {
                if let Ok(i) = text.parse::<i64>() {
                    serializer.serialize_i64(i)
                } else {
                    // Written exactly as read (no float round trip).
                    match serde_json::value::RawValue::from_string(text.to_string()) {
                        Ok(raw) => raw.serialize(serializer),
                        Err(_) => serializer.serialize_unit(),
                    }
                }
            }
            Json::String(s) => serializer.serialize_str(s),
            Json::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&item.value)?;
                }
                seq.end()
            }
            Json::Object(members) => {
                let members = members
                    .iter()
                    .filter(|m| m.value.value != Json::Foreign(Foreign::Undefined));
                let mut map = serializer.serialize_map(None)?;
                for m in members {
                    map.serialize_entry(&*m.key, &m.value.value)?;
                }
                map.end()
            }
        }
    }
}

/// The position of the first `"`, `\\` or control character at or after `pos`, or the length
/// of `bytes`: the end of a run of plain string content. Eight bytes at a time (the usual
/// "has a zero byte" bit trick), then byte by byte for the last few.
fn scan_string(bytes: &[u8], mut pos: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let special = |b: u8| b == b'"' || b == b'\\' || b < 0x20;
    while let Some(chunk) = bytes.get(pos..pos + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let quote = x ^ (ONES * u64::from(b'"'));
        let backslash = x ^ (ONES * u64::from(b'\\'));
        // A byte is below 0x20 when subtracting 0x20 borrows into its high bit, and that bit
        // was clear (the same trick as for a zero byte, shifted).
        let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
        let hits = zero(quote) | zero(backslash) | (x.wrapping_sub(ONES * 0x20) & !x & HIGH);
        if hits != 0 {
            // The lowest flagged byte is the first special one: a flag above it can be a false
            // one (a borrow carried up), never one below it.
            return pos + (hits.trailing_zeros() / 8) as usize;
        }
        pos += 8;
    }
    while let Some(&b) = bytes.get(pos) {
        if special(b) {
            break;
        }
        pos += 1;
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_tokens_unescape_as_rfc_6901_says() {
        for raw in [
            "", "a", "~0", "~1", "~01", "~10", "~~1", "~", "a~", "~2", "é~1é", "~0~1~",
        ] {
            let expected = raw.replace("~1", "/").replace("~0", "~");
            assert_eq!(unescape_token(raw), expected, "{raw}");
        }
    }

    #[test]
    fn parses_and_keeps_number_text() {
        let node = parse(r#"{"a": 9007199254740993, "b": [1.5e3, "x\u00e9\"y"]}"#).expect("valid");
        assert_eq!(
            node.get("a").map(|n| &n.value),
            Some(&Json::Number("9007199254740993".into()))
        );
        let b = node.get("b").expect("b");
        assert!(matches!(&b.value, Json::Array(items) if items.len() == 2));
    }

    #[test]
    fn reports_line_and_column() {
        let err = parse("{\n  \"a\": tru\n}").expect_err("invalid");
        assert_eq!((err.line, err.column), (2, 8));
    }

    #[test]
    fn deep_nesting_is_reported_with_its_pointer() {
        let text = format!("{{\"a\":{}{}}}", "[".repeat(5000), "]".repeat(5000));
        let err = parse(&text).expect_err("too deep");
        let pointer = err.too_deep().expect("too deep").to_string();
        assert_eq!(pointer, format!("/a{}", "/0".repeat(MAX_DEPTH - 1)));
        assert!(parse(&"[".repeat(5000))
            .expect_err("too deep")
            .too_deep()
            .is_some());
        assert!(parse(&format!(
            "{}{}",
            "[".repeat(MAX_DEPTH),
            "]".repeat(MAX_DEPTH)
        ))
        .is_ok());
    }

    #[test]
    fn markers_only_in_js_mode() {
        assert!(parse(r#"{"a": @nan}"#).is_err());
        let node = parse_js(r#"{"a": @nan, "b": @-infinity}"#).expect("js mode");
        assert_eq!(
            parse_js(r#"{"a": [@depth]}"#).expect_err("deep").too_deep(),
            Some("/a/0")
        );
        assert_eq!(
            node.get("b").map(|n| &n.value),
            Some(&Json::Foreign(Foreign::NegInfinity))
        );
    }

    #[test]
    fn locates_pointers() {
        let text = "{\n  \"credentials\": {\n    \"user\": \"x\"\n  }\n}";
        assert_eq!(locate(text, "/credentials/user"), Some((3, 13)));
        assert_eq!(locate(text, "/credentials/password"), Some((2, 18)));
        assert_eq!(locate(text, ""), Some((1, 1)));
        let deep = format!("{{\n\"a\": {}{}}}", "[".repeat(100), "]".repeat(100));
        let pointer = format!("/a{}", "/0".repeat(MAX_DEPTH - 1));
        assert_eq!(locate(&deep, &pointer), Some((2, 6 + MAX_DEPTH - 1)));
    }

    #[test]
    fn string_scan_finds_the_first_special_byte() {
        let naive = |b: &[u8], from: usize| {
            b[from..]
                .iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
                .map_or(b.len(), |i| i + from)
        };
        let alphabet = [
            b'a', b'"', b'\\', 0x1f, 0x20, 0x00, 0x7f, 0x80, 0xff, 0x21, 0x5b, 0x5d,
        ];
        let mut seed = 0x2545_f491_u32;
        for len in 0..40 {
            for _ in 0..200 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 17;
                        seed ^= seed << 5;
                        // Mostly plain bytes, so runs are long enough for the 8-byte steps.
                        if seed.is_multiple_of(6) {
                            alphabet[(seed / 6) as usize % alphabet.len()]
                        } else {
                            b'a' + (seed % 26) as u8
                        }
                    })
                    .collect();
                for from in 0..=bytes.len() {
                    assert_eq!(
                        scan_string(&bytes, from),
                        naive(&bytes, from),
                        "{bytes:?} {from}"
                    );
                }
            }
        }
    }
}
