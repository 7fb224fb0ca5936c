//! shipc — the Ship compiler.
pub mod diag;
pub mod source;
pub mod syntax;
