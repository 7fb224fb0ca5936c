//! The library's entry points, one per use case: each takes what it needs
//! (an analysis, `ship.lock`, flags already parsed, a registry behind
//! [`crate::registry::DigestResolver`]), applies the project's `policy { }`
//! severities itself, and returns its result plus diagnostics. The CLI
//! keeps flags, environment variables, printing and file writing; a test,
//! the language server or another front end calls these the same way.
//!
//! | use case | entry point | network |
//! |---|---|---|
//! | `shipc compile` | [`compile::compile`] | none |
//! | `shipc lock` | [`lock::lock`] | `DigestResolver` |
//! | `shipc verify` | [`lock::verify`] | `DigestResolver` |
//! | `shipc promote` | [`lock::promote`] | none |
//! | `shipc plan/apply/rollback` | [`cluster::render`], then `cluster::engine` | `cluster::Cluster` |
//!
//! A refusal that is the caller's mistake (a flag naming nothing, an env
//! that pins nothing) is [`Refusal::Usage`]; problems in the project are
//! diagnostics.

pub mod cluster;
pub mod compile;
pub mod lock;

use crate::diag::Diagnostic;

/// Why a use case did not run.
#[derive(Debug)]
pub enum Refusal {
    /// The request itself is wrong (the CLI's usage error): the message.
    Usage(String),
    /// The project cannot be processed: these diagnostics say why.
    Problems(Vec<Diagnostic>),
    /// Something outside the project failed (a message for the user).
    Failed(String),
}

/// Apply the project's `policy { }` to diagnostics of policy rules.
fn configured(analysis: &crate::Analysis, found: Vec<Diagnostic>) -> Vec<Diagnostic> {
    crate::policy::configure(found, &analysis.checked.policy)
}
