//! Scalars: when a string needs quotes, quoting, block strings, map keys.

use super::{indent, Error};
use serde::ser::{self, Serialize};

/// Map keys: strings, and scalars written as strings (as serde_json does).
pub(super) struct KeyWriter;

impl ser::Serializer for KeyWriter {
    type Ok = String;
    type Error = Error;
    type SerializeSeq = ser::Impossible<String, Error>;
    type SerializeTuple = ser::Impossible<String, Error>;
    type SerializeTupleStruct = ser::Impossible<String, Error>;
    type SerializeTupleVariant = ser::Impossible<String, Error>;
    type SerializeMap = ser::Impossible<String, Error>;
    type SerializeStruct = ser::Impossible<String, Error>;
    type SerializeStructVariant = ser::Impossible<String, Error>;

    fn serialize_bool(self, v: bool) -> Result<String, Error> {
        Ok(v.to_string())
    }
    integers!(self, v => Ok(v.to_string()));
    fn serialize_f32(self, v: f32) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_f64(self, v: f64) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_char(self, v: char) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_str(self, v: &str) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_none(self) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<String, Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<String, Error> {
        Ok(variant.to_string())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<String, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(key_error())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(key_error())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(key_error())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(key_error())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(key_error())
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        Err(key_error())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(key_error())
    }
}

pub(super) fn key_error() -> Error {
    Error("a YAML map key must be a string or a number".into())
}

pub(super) fn block_string(out: &mut String, s: &str, level: usize) {
    // `|` keeps newlines; `|-` strips the final one; `+` keeps trailing ones.
    let chomp = if s.ends_with("\n\n") {
        "+"
    } else if s.ends_with('\n') {
        ""
    } else {
        "-"
    };
    let leading_space = s.starts_with(' ') || s.starts_with('\t');
    if leading_space || s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        push_quoted(out, s);
        out.push('\n');
        return;
    }
    out.push('|');
    out.push_str(chomp);
    out.push('\n');
    let body = s.strip_suffix('\n').unwrap_or(s);
    for line in body.split('\n') {
        if !line.is_empty() {
            indent(out, level);
            out.push_str(line);
        }
        out.push('\n');
    }
}

/// A string, plain when that reads back as the same string, else quoted.
pub(super) fn push_key(out: &mut String, k: &str) {
    if needs_quotes(k) {
        push_quoted(out, k);
    } else {
        out.push_str(k);
    }
}

/// Bytes that cannot make a plain scalar ambiguous after a leading letter:
/// ASCII letters and digits, `_`, `.`, `/`, `-`, `@`, and `:` (a colon
/// matters only before a space, which is not in the set, or at the very
/// end, which the fast path checks). Image references, digests and URLs
/// stay on the fast path. (A `u8` index into 256 entries cannot be out of
/// bounds.)
#[allow(clippy::indexing_slicing)]
const PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric()
            || c == b'_'
            || c == b'.'
            || c == b'/'
            || c == b'-'
            || c == b'@'
            || c == b':';
        b += 1;
    }
    t
};

#[allow(clippy::indexing_slicing)]
fn plain_byte(b: u8) -> bool {
    PLAIN[usize::from(b)]
}

/// Whether a plain scalar would not read back as this exact string.
pub fn needs_quotes(s: &str) -> bool {
    // Fast path, most keys and values: a letter, then only `PLAIN` bytes.
    // Such a string is never a number, timestamp or indicator; it is
    // ambiguous only as one of YAML 1.1's boolean and null words.
    let bytes = s.as_bytes();
    if bytes.first().is_some_and(u8::is_ascii_alphabetic)
        && bytes.last() != Some(&b':')
        && bytes.iter().all(|&b| plain_byte(b))
    {
        return bytes.len() <= 5 && is_word(s);
    }
    let (Some(first), Some(last)) = (s.chars().next(), s.chars().next_back()) else {
        return true;
    };
    if first.is_whitespace() || last.is_whitespace() {
        return true;
    }
    if s.len() <= 5 && is_word(s) {
        return true;
    }
    // Anything a YAML 1.1 or 1.2 parser may read as a number or timestamp:
    // ints (0123, 0x1f, 0o7, 0b1, 1_000), floats (1e3, .5, 1.5), sexagesimal
    // (1:30) and dates (2024-01-02). Quantities such as `100m` or `64Mi`
    // have other letters and stay plain.
    let second = s.chars().nth(1);
    let starts_numeric = first.is_ascii_digit()
        || ("+-.".contains(first) && second.is_some_and(|c| c.is_ascii_digit() || c == '.'));
    if starts_numeric
        && s.chars()
            .all(|c| c.is_ascii_hexdigit() || "xXoO_.:+-".contains(c))
    {
        return true;
    }
    if matches!(
        first,
        '-' | '?'
            | ':'
            | ','
            | '['
            | ']'
            | '{'
            | '}'
            | '#'
            | '&'
            | '*'
            | '!'
            | '|'
            | '>'
            | '\''
            | '"'
            | '%'
            | '@'
            | '`'
    ) || last == ':'
    {
        return true;
    }
    // One byte pass for `: `, ` #` and ASCII control characters (tabs,
    // newlines, DEL); C1 controls are non-ASCII, so only non-ASCII text
    // needs the char pass.
    let mut prev = 0u8;
    for &b in bytes {
        if (prev == b':' && b == b' ') || (prev == b' ' && b == b'#') || b < 0x20 || b == 0x7f {
            return true;
        }
        prev = b;
    }
    !s.is_ascii() && s.chars().any(|c| c.is_control())
}

/// YAML 1.1 booleans, null and the special floats, in any case.
fn is_word(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", ".nan", ".inf", "-.inf",
        "+.inf",
    ];
    // Every word starts with one of these: most names are out at once.
    let first = s.as_bytes().first().map(u8::to_ascii_lowercase);
    matches!(
        first,
        Some(b'y' | b'n' | b'o' | b't' | b'f' | b'~' | b'.' | b'-' | b'+')
    ) && WORDS.iter().any(|w| w.eq_ignore_ascii_case(s))
}

/// A double-quoted YAML string with escapes.
pub fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    push_quoted(&mut q, s);
    q
}

pub(super) fn push_quoted(q: &mut String, s: &str) {
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\t' => q.push_str("\\t"),
            '\r' => q.push_str("\\r"),
            c if c.is_control() => q.push_str(&format!("\\u{:04x}", c as u32)),
            c => q.push(c),
        }
    }
    q.push('"');
}
