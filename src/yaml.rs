//! A small deterministic YAML writer for JSON-shaped values: block style,
//! two-space indentation, keys in sorted order (serde_json's map is a
//! BTreeMap), and strings quoted whenever a YAML 1.1 or 1.2 parser could
//! read them as anything but that string (`yes`, `on`, `0123`, `1e3`,
//! `null`, `~`, leading indicators, `: `, ` #`, …).

//!
//! It is a `serde::Serializer`: k8s-openapi objects, `serde_json::Value`s
//! and our own structs are written straight to text, with no intermediate
//! tree. Entries are written in the order they arrive; a map whose keys did
//! not arrive sorted has its entries' text reordered when it ends (each
//! entry is self-contained at its indentation), so the output is the same
//! whatever order a type serialises its fields in.

use serde::ser::{self, Serialize};
use std::borrow::Cow;

/// Render one document (no `---`), ending with a newline.
pub fn to_string<T: Serialize + ?Sized>(v: &T) -> String {
    let mut w = Writer::new();
    w.document(v);
    w.out
}

/// Render several documents separated by `---`.
pub fn documents<'a, T: Serialize + 'a>(vs: impl IntoIterator<Item = &'a T>) -> String {
    let mut w = Writer::new();
    for (i, v) in vs.into_iter().enumerate() {
        if i > 0 {
            w.out.push_str("---\n");
        }
        w.document(v);
    }
    w.out
}

/// Where the next value goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ctx {
    /// A document of its own.
    Top,
    /// After `key:` written at this indentation.
    Key(usize),
    /// After `-` written at this indentation.
    Dash(usize),
}

/// An open map or sequence.
struct Frame {
    ctx: Ctx,
    is_map: bool,
    count: usize,
    /// Index of this frame's first entry in `Writer::entries`.
    base: usize,
    sorted: bool,
}

/// One map entry written so far: its key, where its line prefix starts and
/// where its key starts.
struct Entry {
    key: Cow<'static, str>,
    start: usize,
    key_start: usize,
}

#[derive(Default)]
struct Writer {
    out: String,
    ctx: Option<Ctx>,
    frames: Vec<Frame>,
    entries: Vec<Entry>,
}

/// Slots of the per-thread cache of static field names' quoting.
const QUOTE_CACHE: usize = 128;

thread_local! {
    /// (address, length, plain) of recently written `&'static str` keys: a
    /// static string's address and length identify its bytes.
    static STATIC_KEYS: std::cell::RefCell<[(usize, usize, bool); QUOTE_CACHE]> =
        const { std::cell::RefCell::new([(0, 0, false); QUOTE_CACHE]) };
}

/// `!needs_quotes(k)`, remembered per field name (struct fields are
/// written thousands of times).
fn static_key_is_plain(k: &'static str) -> bool {
    let addr = k.as_ptr() as usize;
    let slot = (addr >> 3) % QUOTE_CACHE;
    STATIC_KEYS.with(|cache| {
        let mut cache = cache.borrow_mut();
        match cache.get(slot) {
            Some(&(a, len, plain)) if a == addr && len == k.len() => plain,
            _ => {
                let plain = !needs_quotes(k);
                if let Some(c) = cache.get_mut(slot) {
                    *c = (addr, k.len(), plain);
                }
                plain
            }
        }
    })
}

/// A value that cannot be written as YAML (a map key that is not a
/// scalar); none of the types shipc writes has one.
#[derive(Debug)]
pub struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

fn indent(out: &mut String, n: usize) {
    const SPACES: &str = "                                                                ";
    match SPACES.get(..n) {
        Some(s) => out.push_str(s),
        None => out.extend(std::iter::repeat_n(' ', n)),
    }
}

impl Writer {
    /// A writer whose buffer starts at 1 KiB: most files are a few KiB, and
    /// growing from empty copied each one several times.
    fn new() -> Writer {
        Writer {
            out: String::with_capacity(1024),
            ..Writer::default()
        }
    }

    fn document<T: Serialize + ?Sized>(&mut self, v: &T) {
        self.ctx = Some(Ctx::Top);
        self.frames.clear();
        self.entries.clear();
        let mark = self.out.len();
        if let Err(e) = v.serialize(&mut *self) {
            // Unreachable for shipc's own types; never emit half a value.
            self.out.truncate(mark);
            self.out.push_str("# ");
            self.out.push_str(&e.0.replace('\n', " "));
            self.out.push('\n');
        }
    }

    fn take_ctx(&mut self) -> Ctx {
        self.ctx.take().unwrap_or(Ctx::Top)
    }

    /// A scalar written as is (numbers, booleans, `null`).
    fn raw(&mut self, text: &str) -> Result<(), Error> {
        if self.take_ctx() != Ctx::Top {
            self.out.push(' ');
        }
        self.out.push_str(text);
        self.out.push('\n');
        Ok(())
    }

    /// A string: plain, double-quoted, or a block after a key or dash.
    fn string(&mut self, s: &str) -> Result<(), Error> {
        match self.take_ctx() {
            Ctx::Key(level) | Ctx::Dash(level) => {
                self.out.push(' ');
                if s.contains('\n') {
                    block_string(&mut self.out, s, level + 2);
                    return Ok(());
                }
            }
            Ctx::Top => {}
        }
        push_key(&mut self.out, s);
        self.out.push('\n');
        Ok(())
    }

    fn open(&mut self, is_map: bool) {
        let ctx = self.take_ctx();
        self.frames.push(Frame {
            ctx,
            is_map,
            count: 0,
            base: self.entries.len(),
            sorted: true,
        });
    }

    /// Start a map entry: header, line prefix, key and `:`; the value
    /// follows with `Ctx::Key`.
    fn key(&mut self, key: Cow<'static, str>) {
        let Some(f) = self.frames.last_mut() else {
            return;
        };
        let level = match f.ctx {
            Ctx::Top => 0,
            Ctx::Key(l) | Ctx::Dash(l) => l + 2,
        };
        if f.count == 0 && matches!(f.ctx, Ctx::Key(_)) {
            self.out.push('\n');
        }
        let start = self.out.len();
        if f.count == 0 && matches!(f.ctx, Ctx::Dash(_)) {
            self.out.push(' ');
        } else {
            indent(&mut self.out, level);
        }
        if f.count > 0 {
            if let Some(prev) = self.entries.last() {
                // Most neighbouring keys differ in their first byte.
                let (p, k) = (prev.key.as_bytes(), key.as_bytes());
                let after = match (p.first(), k.first()) {
                    (Some(a), Some(b)) if a != b => a > b,
                    _ => p > k,
                };
                if after {
                    f.sorted = false;
                }
            }
        }
        f.count += 1;
        let key_start = self.out.len();
        let plain = match &key {
            // Field names are `&'static str`: remember each one's answer.
            Cow::Borrowed(k) => static_key_is_plain(k),
            Cow::Owned(k) => !needs_quotes(k),
        };
        if plain {
            self.out.push_str(&key);
        } else {
            push_quoted(&mut self.out, &key);
        }
        self.out.push(':');
        self.entries.push(Entry {
            key,
            start,
            key_start,
        });
        self.ctx = Some(Ctx::Key(level));
    }

    /// `{variant: …}` around a tuple (`is_map` false) or struct variant.
    fn variant(&mut self, variant: &'static str, is_map: bool) {
        self.open(true);
        self.key(Cow::Borrowed(variant));
        self.open(is_map);
    }

    /// Start a sequence item: header, `-`; the value follows with
    /// `Ctx::Dash`.
    fn item(&mut self) {
        let Some(f) = self.frames.last_mut() else {
            return;
        };
        let level = match f.ctx {
            Ctx::Top => 0,
            Ctx::Key(l) => l,
            Ctx::Dash(l) => l + 2,
        };
        if f.count == 0 && f.ctx != Ctx::Top {
            self.out.push('\n');
        }
        f.count += 1;
        indent(&mut self.out, level);
        self.out.push('-');
        self.ctx = Some(Ctx::Dash(level));
    }

    fn close(&mut self) -> Result<(), Error> {
        let Some(f) = self.frames.pop() else {
            return Ok(());
        };
        if f.count == 0 {
            if f.ctx != Ctx::Top {
                self.out.push(' ');
            }
            self.out.push_str(if f.is_map { "{}\n" } else { "[]\n" });
        } else if !f.sorted {
            self.reorder(&f);
        }
        self.entries.truncate(f.base);
        Ok(())
    }

    /// Rewrite a map's entries in key order. Every entry's text after its
    /// line prefix stands alone; only the first entry's prefix differs
    /// (the space after a dash).
    fn reorder(&mut self, f: &Frame) {
        let entries = self.entries.get(f.base..).unwrap_or_default();
        let Some(first) = entries.first() else {
            return;
        };
        let region_start = first.start;
        let first_prefix = self
            .out
            .get(first.start..first.key_start)
            .unwrap_or_default()
            .to_string();
        let level = match f.ctx {
            Ctx::Top => 0,
            Ctx::Key(l) | Ctx::Dash(l) => l + 2,
        };
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_by(|&a, &b| {
            let ka = entries.get(a).map(|e| e.key.as_ref());
            let kb = entries.get(b).map(|e| e.key.as_ref());
            ka.cmp(&kb)
        });
        let mut text = String::with_capacity(self.out.len() - region_start);
        for (n, &i) in order.iter().enumerate() {
            let (Some(e), end) = (
                entries.get(i),
                entries.get(i + 1).map_or(self.out.len(), |x| x.start),
            ) else {
                continue;
            };
            if n == 0 {
                text.push_str(&first_prefix);
            } else {
                indent(&mut text, level);
            }
            text.push_str(self.out.get(e.key_start..end).unwrap_or_default());
        }
        self.out.truncate(region_start);
        self.out.push_str(&text);
    }
}

/// The integer methods of a `Serializer`: each writes the number's decimal
/// text with `$body` (`$v` is the value).
macro_rules! integers {
    ($self:ident, $v:ident => $body:expr) => {
        integers!(@each $self, $v, $body; serialize_i8: i8, serialize_i16: i16,
            serialize_i32: i32, serialize_i64: i64, serialize_i128: i128, serialize_u8: u8,
            serialize_u16: u16, serialize_u32: u32, serialize_u64: u64, serialize_u128: u128);
    };
    (@each $self:ident, $v:ident, $body:expr; $($name:ident: $ty:ty),*) => {
        $(fn $name($self, $v: $ty) -> Result<Self::Ok, Error> {
            $body
        })*
    };
}

impl ser::Serializer for &mut Writer {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.raw(if v { "true" } else { "false" })
    }
    integers!(self, v => self.raw(&v.to_string()));
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        // As serde_json writes it; NaN and infinities become null.
        match serde_json::Number::from_f64(v) {
            Some(n) => self.raw(&n.to_string()),
            None => self.raw("null"),
        }
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.string(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.string(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        use ser::SerializeSeq;
        let mut s = self.serialize_seq(Some(v.len()))?;
        for b in v {
            s.serialize_element(b)?;
        }
        SerializeSeq::end(s)
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.raw("null")
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.raw("null")
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.raw("null")
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.string(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.open(true);
        self.key(Cow::Borrowed(variant));
        value.serialize(&mut *self)?;
        self.close()
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self, Error> {
        self.open(false);
        Ok(self)
    }
    fn serialize_tuple(self, len: usize) -> Result<Self, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Self, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self, Error> {
        self.variant(variant, false);
        Ok(self)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self, Error> {
        self.open(true);
        Ok(self)
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self, Error> {
        self.open(true);
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self, Error> {
        self.variant(variant, true);
        Ok(self)
    }
}

impl ser::SerializeSeq for &mut Writer {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.item();
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

/// Tuples are sequences; a tuple variant also closes its `{variant: …}`.
macro_rules! as_sequence {
    ($trait:ident, $method:ident, $frames:literal) => {
        impl ser::$trait for &mut Writer {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                ser::SerializeSeq::serialize_element(self, value)
            }
            fn end(self) -> Result<(), Error> {
                for _ in 0..$frames {
                    self.close()?;
                }
                Ok(())
            }
        }
    };
}

as_sequence!(SerializeTuple, serialize_element, 1);
as_sequence!(SerializeTupleStruct, serialize_field, 1);
as_sequence!(SerializeTupleVariant, serialize_field, 2);

impl ser::SerializeMap for &mut Writer {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        let k = key.serialize(KeyWriter)?;
        self.key(Cow::Owned(k));
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

/// Structs are maps with static keys; a struct variant also closes its
/// `{variant: …}`.
macro_rules! as_struct {
    ($trait:ident, $frames:literal) => {
        impl ser::$trait for &mut Writer {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Error> {
                self.key(Cow::Borrowed(key));
                value.serialize(&mut **self)
            }
            fn end(self) -> Result<(), Error> {
                for _ in 0..$frames {
                    self.close()?;
                }
                Ok(())
            }
        }
    };
}

as_struct!(SerializeStruct, 1);
as_struct!(SerializeStructVariant, 2);

/// Map keys: strings, and scalars written as strings (as serde_json does).
struct KeyWriter;

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

fn key_error() -> Error {
    Error("a YAML map key must be a string or a number".into())
}

fn block_string(out: &mut String, s: &str, level: usize) {
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
fn push_key(out: &mut String, k: &str) {
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

fn push_quoted(q: &mut String, s: &str) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ambiguous_strings_are_quoted() {
        for s in [
            "yes", "on", "0123", "1e3", "null", "~", "", " x", "a: b", "-x", "1.5", "0x1F",
            "12:30", "True", "NO", "Off", "Y", "nuLL", "-.inf", ".NaN", "a:", "x\ty", "a: b",
            "ab:",
        ] {
            assert!(needs_quotes(s), "{s}");
        }
        for s in [
            "nginx",
            "http",
            "app.kubernetes.io/name",
            "registry.example.com/a:1.0",
            "100m",
            "64Mi",
            "yess",
            "name",
            "nginx-1.25/x_y",
            "a:b",
            "sha256:3333",
            "registry.example.com:5000/a/b@sha256:ab",
            "http://x.example.com/p",
        ] {
            assert!(!needs_quotes(s), "{s}");
        }
    }

    #[test]
    fn renders_block_yaml() {
        let v = json!({"b": [1, {"x": "yes", "y": []}], "a": {"k": "v\nw\n"}, "c": {}});
        assert_eq!(
            to_string(&v),
            "a:\n  k: |\n    v\n    w\nb:\n- 1\n- x: \"yes\"\n  \"y\": []\nc: {}\n"
        );
    }

    /// Fields that arrive out of order are written sorted, at the top, after
    /// a key and after a dash (where the first key shares the dash line).
    #[test]
    fn unsorted_fields_are_written_sorted() {
        #[derive(serde::Serialize)]
        struct Inner {
            zeta: u8,
            alpha: Vec<u8>,
            mid: Option<&'static str>,
        }
        #[derive(serde::Serialize)]
        struct Outer {
            z: Inner,
            list: Vec<Inner>,
            a: std::collections::BTreeMap<String, Inner>,
            empty: Vec<u8>,
        }
        let inner = || Inner {
            zeta: 1,
            alpha: vec![2, 3],
            mid: None,
        };
        let v = Outer {
            z: inner(),
            list: vec![inner(), inner()],
            a: [("k".to_string(), inner())].into_iter().collect(),
            empty: vec![],
        };
        let text = to_string(&v);
        let mut sorted = serde_json::to_value(&v).unwrap();
        sorted.sort_all_objects();
        assert_eq!(text, to_string(&sorted));
        assert_eq!(
            text,
            "a:\n  k:\n    alpha:\n    - 2\n    - 3\n    mid: null\n    zeta: 1\nempty: []\n\
             list:\n- alpha:\n  - 2\n  - 3\n  mid: null\n  zeta: 1\n- alpha:\n  - 2\n  - 3\n\
             \x20 mid: null\n  zeta: 1\nz:\n  alpha:\n  - 2\n  - 3\n  mid: null\n  zeta: 1\n"
        );
        assert_eq!(documents([&1, &2]), "1\n---\n2\n");
    }

    /// Every serde shape writes what its `serde_json::Value` writes.
    #[test]
    fn every_shape_matches_its_json_value() {
        #[derive(serde::Serialize)]
        enum E {
            Unit,
            New(u8),
            Tuple(u8, &'static str),
            Struct { b: bool, a: Option<u8> },
        }
        #[derive(serde::Serialize)]
        struct All {
            unit: (),
            tuple: (i8, u64, f64),
            chars: char,
            bytes: &'static [u8],
            keys: std::collections::BTreeMap<u16, &'static str>,
            variants: Vec<E>,
            nested: Vec<Vec<u8>>,
            text: &'static str,
        }
        let v = All {
            unit: (),
            tuple: (-1, 2, 1.5),
            chars: 'y',
            bytes: b"ab",
            keys: [(10, "ten"), (2, "two")].into_iter().collect(),
            variants: vec![
                E::Unit,
                E::New(1),
                E::Tuple(2, "on"),
                E::Struct { b: true, a: None },
            ],
            nested: vec![vec![], vec![1, 2]],
            text: "line\nnext\n",
        };
        assert_eq!(to_string(&v), to_string(&serde_json::to_value(&v).unwrap()));
    }

    /// Field names that YAML would read as booleans are quoted every time,
    /// cached or not.
    #[test]
    fn static_keys_are_quoted_when_needed() {
        #[derive(serde::Serialize)]
        struct Flags {
            #[serde(rename = "on")]
            on: bool,
            #[serde(rename = "y")]
            y: u8,
            name: u8,
        }
        let v = Flags {
            on: true,
            y: 1,
            name: 2,
        };
        for _ in 0..3 {
            assert_eq!(to_string(&v), "name: 2\n\"on\": true\n\"y\": 1\n");
        }
    }
}
