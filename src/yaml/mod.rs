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

use scalar::{block_string, push_key, push_quoted, KeyWriter};
pub use scalar::{needs_quotes, quote};
use serde::ser::{self, Serialize};
use std::borrow::Cow;

/// Render one document (no `---`), ending with a newline.
pub fn to_string<T: Serialize + ?Sized>(v: &T) -> String {
    let mut w = Writer::new();
    w.document(v);
    fitted(w.out)
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
    fitted(w.out)
}

/// Whether a buffer of `capacity` holding `len` bytes has room enough to be
/// worth copying into a block of its own size (more than an eighth).
pub(crate) fn roomy(len: usize, capacity: usize) -> bool {
    capacity - len > len / 8
}

/// `s` in a block of its own size. Text written by appending has up to
/// twice the room it uses, and a compile holds every file it wrote until
/// the end; copying once where the text was made (often a worker thread)
/// is cheaper than keeping the room.
fn fitted(s: String) -> String {
    if roomy(s.len(), s.capacity()) {
        s.as_str().to_string()
    } else {
        s
    }
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

pub(super) fn indent(out: &mut String, n: usize) {
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

mod scalar;

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

#[cfg(test)]
mod tests;
