//! `compile`: every env of an analysis emitted in memory, with the P002
//! problems of pinned envs configured by `policy { }`.

use crate::diag::Diagnostic;
use crate::emit::{OutputTree, Targets};

/// Emit every env of `analysis` (each with a graph). `Err` names an
/// emitter that stopped unexpectedly (a bug): nothing may be written.
pub fn compile(
    analysis: &crate::Analysis,
    targets: &Targets<'_>,
) -> Result<(OutputTree, Vec<Diagnostic>), String> {
    let (tree, problems) = crate::emit::all(analysis, targets)?;
    Ok((tree, super::configured(analysis, problems)))
}

/// As [`compile`], each env's files handed to `sink` as soon as they are
/// emitted, and a large env's to `batches` while it is (see
/// [`crate::emit::each_env`]).
pub fn compile_each<R: Send>(
    analysis: &crate::Analysis,
    targets: &Targets<'_>,
    batches: Option<crate::emit::Batches<'_>>,
    sink: impl Fn(&str, OutputTree) -> R + Sync,
) -> Result<(Vec<R>, Vec<Diagnostic>), String> {
    let (results, problems) = crate::emit::each_env(analysis, targets, batches, sink)?;
    Ok((results, super::configured(analysis, problems)))
}
