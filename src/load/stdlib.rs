//! The stdlib's syntax trees, parsed ahead of time and embedded in the
//! binary (`stdlib/ship/stdlib.ast`, postcard), so a run does not parse
//! 13 KB of stdlib on every start (it was three quarters of a trivial
//! `check`). The trees carry a fingerprint of the stdlib text they were
//! parsed from; when it is not this binary's text (someone edited the
//! stdlib and did not regenerate the file), or the file cannot be read,
//! the stdlib is parsed as before — slower, never wrong.
//! `tests/stdlib.rs` checks the file is current;
//! `SHIPC_WRITE_STDLIB_AST=1 cargo test --test stdlib` rewrites it.

use super::STDLIB;
use crate::syntax::ast;

/// The embedded trees, as written by [`serialize`].
const EMBEDDED: &[u8] = include_bytes!("../../stdlib/ship/stdlib.ast");

/// FNV-1a over every stdlib file's name and text, at compile time (an
/// index out of range would fail the build, never a run).
#[allow(clippy::indexing_slicing)]
const FINGERPRINT: u64 = {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut f = 0;
    while f < STDLIB.len() {
        let (name, text) = STDLIB[f];
        let parts = [name.as_bytes(), text.as_bytes()];
        let mut p = 0;
        while p < parts.len() {
            let bytes = parts[p];
            let mut i = 0;
            while i < bytes.len() {
                h ^= bytes[i] as u64;
                h = h.wrapping_mul(0x0100_0000_01b3);
                i += 1;
            }
            h ^= 0xff;
            h = h.wrapping_mul(0x0100_0000_01b3);
            p += 1;
        }
        f += 1;
    }
    h
};

#[derive(serde::Serialize, serde::Deserialize)]
struct Embedded {
    fingerprint: u64,
    files: Vec<ast::File>,
}

/// The stdlib's trees, one per [`STDLIB`] file in order, when the embedded
/// ones are of this stdlib's text.
pub(super) fn embedded() -> Option<Vec<ast::File>> {
    let e: Embedded = postcard::from_bytes(EMBEDDED).ok()?;
    (e.fingerprint == FINGERPRINT && e.files.len() == STDLIB.len()).then_some(e.files)
}

/// The bytes of `stdlib/ship/stdlib.ast` for these trees (parsed from
/// [`STDLIB`] in order, with file ids 0, 1, …).
pub fn serialize(files: Vec<ast::File>) -> Vec<u8> {
    postcard::to_allocvec(&Embedded {
        fingerprint: FINGERPRINT,
        files,
    })
    .unwrap_or_default()
}

/// Whether loading uses the embedded trees (they are of this stdlib).
pub fn in_use() -> bool {
    embedded().is_some()
}

/// The embedded file as it is.
pub fn embedded_bytes() -> &'static [u8] {
    EMBEDDED
}
