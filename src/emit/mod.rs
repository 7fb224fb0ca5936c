//! Emitting: the evaluated model → files, in memory. Emitters return an
//! [`OutputTree`]; only the CLI writes it (to a temp dir, then renamed).
//!
//! `k8s` is the one place Kubernetes objects are built; every target
//! consumes it. `yaml` is a small deterministic YAML writer (keys sorted,
//! every string that a YAML 1.1 parser could read as something else quoted).

pub mod chart;
pub mod flux;
pub mod helmfile;
pub mod k8s;
pub mod starlark;
pub mod tilt;

use crate::diag::Diagnostic;
use crate::images::{Images, Overrides, PinSource};
use crate::lock::Lockfile;
use crate::model::Value;
use crate::model::{EnvKind, EnvModel};
use crate::source::SourceMap;
pub use crate::units::go_duration as units_go_duration;
use std::collections::BTreeMap;

/// Files to write: relative path (`/`-separated) → bytes. Sorted, so
/// writing is ordered.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct OutputTree {
    /// The files.
    pub files: BTreeMap<String, Vec<u8>>,
}

impl OutputTree {
    /// An empty tree.
    pub fn new() -> OutputTree {
        OutputTree::default()
    }

    /// Add (or replace) a file. The tree holds every file of a compile
    /// until it is written, so a file's text is kept in a block of its own
    /// size: text written by appending has up to twice the room it uses.
    pub fn add(&mut self, path: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        let mut bytes = bytes.into();
        if crate::yaml::roomy(bytes.len(), bytes.capacity()) {
            bytes = bytes.as_slice().to_vec();
        }
        self.files.insert(path.into(), bytes);
    }

    /// Every file of `other` under `prefix/`.
    pub fn merge_under(&mut self, prefix: &str, other: OutputTree) {
        for (p, b) in other.files {
            self.files.insert(format!("{prefix}/{p}"), b);
        }
    }
}

/// The ownership marker shipc writes into every env folder it owns (an
/// output folder of `compile`, a flux env's path in Git): a comment line,
/// then every file it wrote there.
pub const MARKER: &str = ".shipc-output";

/// The marker text for these files (paths relative to the folder).
pub fn marker<'a>(files: impl IntoIterator<Item = &'a str>) -> String {
    let mut m = String::from(
        "# Written by shipc: this folder is replaced on every compile. Files below are shipc's.\n",
    );
    for f in files.into_iter().filter(|f| *f != MARKER) {
        m.push_str(f);
        m.push('\n');
    }
    m
}

/// The files a marker lists.
pub fn marker_files(text: &str) -> Vec<&str> {
    text.lines().skip(1).collect()
}

/// Inputs of the pinned targets besides the env.
pub struct PinnedInput<'a> {
    /// The project record.
    pub project: &'a Value,
    /// Sources (for `ship.dev/source`).
    pub sources: &'a SourceMap,
    /// The project root.
    pub root: &'a std::path::Path,
    /// `ship.lock`.
    pub lock: &'a Lockfile,
    /// `--digest` / `SHIP_DIGEST_*` overrides.
    pub overrides: &'a Overrides,
    /// The `shipc lock` command that fixes a missing pin.
    pub lock_command: String,
}

impl PinnedInput<'_> {
    /// Where pins come from.
    pub fn pins(&self) -> PinSource<'_> {
        PinSource {
            lock: self.lock,
            overrides: self.overrides,
            lock_command: &self.lock_command,
        }
    }
}

/// Run `f` with the lowering context of a pinned env: its images are
/// resolved first, once ([`Images::pinned`]); returns `f`'s result and the
/// P002 problems of images without a digest.
pub fn with_pinned<R>(
    env: &EnvModel,
    input: &PinnedInput<'_>,
    f: impl FnOnce(&k8s::Context<'_>, &Images) -> R,
) -> (R, Vec<Diagnostic>) {
    let (images, problems) = Images::pinned(env, input.pins());
    let cx = k8s::Context::new(env, input.project, input.sources, input.root, &images);
    (f(&cx, &images), problems)
}

/// What `compile` needs besides the analysis.
pub struct Targets<'a> {
    /// `ship.lock` (empty when there is none).
    pub lock: &'a Lockfile,
    /// `--digest` / `SHIP_DIGEST_*` overrides.
    pub overrides: &'a Overrides,
    /// The project root as seen from `<out>/<env>/`, by env name (Tilt
    /// paths are relative to the Tiltfile).
    pub root_from_output: &'a (dyn Fn(&str) -> String + Sync),
    /// The project path as the user passed it (` PATH`, or empty), for the
    /// `shipc lock` command that P002 names.
    pub path_arg: &'a str,
}

/// Emit every env of the analysis (each with a graph) into one tree,
/// `<env>/…`, plus the P002 problems of pinned envs (not yet configured by
/// `policy {}`). Envs are emitted on all cores; the result does not depend
/// on scheduling. `Err` names an env whose emitter stopped unexpectedly (a
/// bug): nothing of that compile may be written.
pub fn all(
    analysis: &crate::Analysis,
    t: &Targets<'_>,
) -> Result<(OutputTree, Vec<Diagnostic>), String> {
    let (trees, problems) = each_env(analysis, t, |env, tree| (env.to_string(), tree))?;
    let mut tree = OutputTree::new();
    for (env, t) in trees {
        tree.merge_under(&env, t);
    }
    Ok((tree, problems))
}

/// The envs [`each_env`] emits (those with a graph), in order.
pub fn env_names(analysis: &crate::Analysis) -> Vec<String> {
    jobs(analysis)
        .into_iter()
        .map(|(env, _)| env.name.clone())
        .collect()
}

fn jobs(analysis: &crate::Analysis) -> Vec<(&EnvModel, &crate::graph::DepGraph)> {
    analysis
        .checked
        .envs
        .iter()
        .filter_map(|env| {
            let g = analysis.graphs.iter().find(|g| g.env == env.name)?;
            Some((env, g))
        })
        .collect()
}

/// As [`all`], but each env's files (paths relative to its folder) go to
/// `sink` on the thread that emitted them, as soon as they are emitted, and
/// are not kept: `compile` stages them on disk while other envs are still
/// being emitted, so a compile never holds every env's text at once.
/// Returns `sink`'s results in env order.
pub fn each_env<R: Send>(
    analysis: &crate::Analysis,
    t: &Targets<'_>,
    sink: impl Fn(&str, OutputTree) -> R + Sync,
) -> Result<(Vec<R>, Vec<Diagnostic>), String> {
    let jobs = jobs(analysis);
    let results = crate::par::each(&jobs, |&(env, graph)| {
        let (tree, problems) = one_env(analysis, env, graph, t);
        (sink(&env.name, tree), problems)
    });
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for ((env, _), r) in jobs.iter().zip(results) {
        let Some((r, p)) = r else {
            return Err(format!(
                "internal error: emitting env `{}` stopped unexpectedly",
                env.name
            ));
        };
        out.push(r);
        problems.extend(p);
    }
    Ok((out, problems))
}

/// What the pinned targets (helmfile, flux) take besides the env.
fn pinned_input<'a>(
    analysis: &'a crate::Analysis,
    env: &EnvModel,
    t: &'a Targets<'_>,
) -> PinnedInput<'a> {
    let builds = env.builds_images();
    let tag = if builds { " --tag <TAG>" } else { "" };
    PinnedInput {
        project: &analysis.checked.project,
        sources: &analysis.loaded.sources,
        root: &analysis.loaded.root,
        lock: t.lock,
        overrides: t.overrides,
        lock_command: format!("shipc lock --env {}{tag}{}", env.name, t.path_arg),
    }
}

fn one_env(
    analysis: &crate::Analysis,
    env: &EnvModel,
    graph: &crate::graph::DepGraph,
    t: &Targets<'_>,
) -> (OutputTree, Vec<Diagnostic>) {
    let (project, sources, root) = (
        &analysis.checked.project,
        &analysis.loaded.sources,
        &analysis.loaded.root,
    );
    // `kind` and `tilt.strategy` are checked literal unions: every value
    // has a target, and the match is exhaustive.
    match env.env_kind() {
        EnvKind::Tilt => {
            let root_from_output = (t.root_from_output)(&env.name);
            let input = tilt::TiltInput {
                project,
                sources,
                root,
                root_from_output: &root_from_output,
            };
            (tilt::emit(env, graph, &input), Vec::new())
        }
        EnvKind::Helmfile => helmfile::emit(env, graph, &pinned_input(analysis, env, t)),
        EnvKind::Flux => flux::emit(env, graph, &pinned_input(analysis, env, t)),
    }
}
