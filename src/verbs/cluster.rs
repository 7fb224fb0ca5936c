//! The cluster verbs' first step: an env rendered for a live cluster, with
//! its images pinned and P002 configured. `plan`, `apply`, `rollback` and
//! `status` then run [`crate::cluster::engine`] on any
//! [`crate::cluster::Cluster`]; the refusals they find (P005 for objects
//! another owner has) are configured by [`policy`].

use crate::cluster::render::Rendered;
use crate::diag::Diagnostic;
use crate::emit::PinnedInput;
use crate::images::Overrides;
use crate::lock::Lockfile;

/// Render `env` of `analysis` for the cluster. The diagnostics are the
/// P002 problems of images without a digest (configured); the caller
/// refuses to apply when one is an error.
pub fn render(
    analysis: &crate::Analysis,
    env: &str,
    lock: &Lockfile,
    overrides: &Overrides,
    lock_command: String,
) -> Option<(Rendered, Vec<Diagnostic>)> {
    let model = analysis.checked.envs.iter().find(|e| e.name == env)?;
    let graph = analysis.graphs.iter().find(|g| g.env == env)?;
    let input = PinnedInput {
        project: &analysis.checked.project,
        sources: &analysis.loaded.sources,
        root: &analysis.loaded.root,
        lock,
        overrides,
        lock_command,
    };
    let (rendered, problems) = crate::cluster::render::render(model, graph, &input);
    Some((rendered, super::configured(analysis, problems)))
}

/// The project's `policy { }` applied to what a cluster verb found.
pub fn policy(analysis: &crate::Analysis, found: Vec<Diagnostic>) -> Vec<Diagnostic> {
    super::configured(analysis, found)
}
